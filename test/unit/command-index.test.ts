import {readdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {COMMANDS} from '../../src/index.js'

const COMMANDS_DIR = fileURLToPath(new URL('../../src/commands', import.meta.url))

describe('the command index oclif reads (src/index.ts)', () => {
  it('names every file in src/commands by its command id, so that none is missing from the CLI', () => {
    const ids = readdirSync(COMMANDS_DIR, {recursive: true, encoding: 'utf8'})
      .filter((file) => file.endsWith('.ts'))
      .map((file) => file.replace(/\.ts$/, '').split('/').join(':'))
    expect(Object.keys(COMMANDS).sort()).toEqual(ids.sort())
  })
})

import {Config} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

import {versionLine} from '../../src/startup/version.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const pjson = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {name: string; version: string}

describe('redisctl --version without loading oclif', () => {
  it('prints the line oclif itself prints', async () => {
    const config = await Config.load(ROOT)
    expect(versionLine(['--version'], pjson)).toBe(config.userAgent)
  })

  it('leaves every other command line to oclif, --version after a command included', () => {
    expect(versionLine([], pjson)).toBeUndefined()
    expect(versionLine(['status'], pjson)).toBeUndefined()
    expect(versionLine(['status', '--version'], pjson)).toBeUndefined()
    expect(versionLine(['-v'], pjson)).toBeUndefined()
  })
})

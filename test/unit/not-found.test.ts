import {describe, expect, it} from 'vitest'

import {didYouMean, typoDistance} from '../../src/cli/not-found.js'

const COMMANDS = ['check', 'cluster:create', 'node:add', 'node:add-replica', 'node:del', 'node:del-replica', 'repair', 'scale', 'status', 'teardown']

describe('did you mean, for a mistyped command', () => {
  it('counts a swap of neighbouring letters as one typo', () => {
    expect(typoDistance('stauts', 'status')).toBe(1)
  })

  it('names the command a typo was meant for', () => {
    expect(didYouMean('staus', COMMANDS)).toEqual(['status'])
    expect(didYouMean('node:dell', COMMANDS)).toEqual(['node:del'])
  })

  it('names none when every command is too far off to be meant', () => {
    expect(didYouMean('xyzzy', COMMANDS)).toEqual([])
  })
})

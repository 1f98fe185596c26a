import {describe, expect, it} from 'vitest'

import {chooseRenderer} from '../../src/cli/renderer.js'

describe('task list renderer', () => {
  it('is silent under --json so stdout stays pure JSON', () => {
    expect(chooseRenderer({json: true, isTTY: true, ci: false})).toBe('silent')
  })

  it('draws the live task list on a terminal', () => {
    expect(chooseRenderer({json: false, isTTY: true, ci: false})).toBe('default')
  })

  it('prints one plain line per step when output is piped', () => {
    expect(chooseRenderer({json: false, isTTY: false, ci: false})).toBe('simple')
  })

  it('prints one plain line per step in CI even with a TTY', () => {
    expect(chooseRenderer({json: false, isTTY: true, ci: true})).toBe('simple')
  })
})

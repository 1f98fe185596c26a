import {describe, expect, it} from 'vitest'

import {unwrappedError} from '../../src/cli/format.js'

describe('an error as printed without a terminal', () => {
  it('keeps a message longer than any screen on one line, after oclif\'s margin', () => {
    const message = `The kubeconfig file /${'x'.repeat(200)} does not exist.`
    expect(unwrappedError(message)).toBe(` ›   Error: ${message}`)
  })

  it('puts one suggestion after "Try this:" on its own line', () => {
    expect(unwrappedError('No pods match.', ['Check the namespace.'])).toBe(' ›   Error: No pods match.\n ›   Try this: Check the namespace.')
  })

  it('lists several suggestions under "Try this:", each line with the margin', () => {
    expect(unwrappedError('Refused.', ['One.', 'Two.']).split('\n')).toEqual([' ›   Error: Refused.', ' ›   Try this:', ' ›     * One.', ' ›     * Two.'])
  })
})

import {describe, expect, it} from 'vitest'

import {formatDuration, parseDuration} from '../../src/cli/duration.js'

describe('--timeout durations', () => {
  it.each([
    ['300', 300], ['30s', 30], ['5m', 300], ['1500ms', 1.5], ['1h', 3600], ['1m30s', 90], ['2.5s', 2.5], [' 10s ', 10],
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds)
  })

  it.each(['', 'five', '5 m', '5min', '-5s', '5s3', 'm5', '1d'])('refuses %j and says which forms it takes', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration: use seconds \(300\), or a number with a unit: 1500ms, 30s, 5m/)
  })

  it.each(['0', '0s', '0ms'])('refuses %j: a timeout must be longer than zero', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration longer than zero/)
  })

  it.each([[300, '5m'], [90, '1m30s'], [30, '30s'], [1.5, '1.5s'], [3600, '1h']])('shows %d seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text)
    expect(parseDuration(text)).toBe(seconds)
  })
})

import {describe, expect, it} from 'vitest'

import {countSlots, formatRanges, rangesToSlots, SLOT_COUNT, slotsToRanges, splitEvenly} from '../../src/topology/slots.js'

describe('slot ranges', () => {
  it('folds scattered slots into sorted inclusive ranges', () => {
    expect(slotsToRanges([5, 1, 2, 3, 9, 10])).toEqual([{start: 1, end: 3}, {start: 5, end: 5}, {start: 9, end: 10}])
  })

  it('expands ranges back to the same slots', () => {
    expect(rangesToSlots(slotsToRanges([7, 8, 100]))).toEqual([7, 8, 100])
  })

  it('prints ranges the way CLUSTER NODES does', () => {
    expect(formatRanges([{start: 0, end: 5460}, {start: 6000, end: 6000}])).toBe('0-5460,6000')
  })

  it('splits all 16384 slots evenly, without gaps, sizes differing by at most one', () => {
    for (const parts of [3, 4, 5, 7, 30]) {
      const ranges = splitEvenly(parts)
      expect(countSlots(ranges)).toBe(SLOT_COUNT)
      const sizes = ranges.map((r) => r.end - r.start + 1)
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      ranges.slice(1).forEach((r, i) => expect(r.start).toBe(ranges[i].end + 1))
    }
  })

  it('gives 3 masters the ranges redis-cli --cluster create gives', () => {
    expect(splitEvenly(3)).toEqual([{start: 0, end: 5460}, {start: 5461, end: 10922}, {start: 10923, end: 16383}])
  })
})

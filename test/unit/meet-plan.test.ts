import {describe, expect, it} from 'vitest'

import {pairKey, planMeets} from '../../src/topology/meet-plan.js'

const everyone = (): boolean => true
const pairsOf = (picks: {from: number; to: number}[]): string[] => picks.map((p) => pairKey(p.from, p.to))

describe('planMeets: which nodes meet next while a cluster forms', () => {
  it('introduces every pair of strangers at once when the window has room for all of them', () => {
    const picks = planMeets(6, everyone, new Set(), 100)
    expect(picks).toHaveLength(15)
    expect(new Set(pairsOf(picks)).size).toBe(15)
  })

  it('never has more MEETs out than the window, and spreads them evenly over the nodes', () => {
    const picks = planMeets(200, everyone, new Set(), 2000)
    expect(picks).toHaveLength(2000)
    const sent = new Map<number, number>()
    const received = new Map<number, number>()
    for (const {from, to} of picks) {
      sent.set(from, (sent.get(from) ?? 0) + 1)
      received.set(to, (received.get(to) ?? 0) + 1)
    }
    expect(new Set(sent.values())).toEqual(new Set([10]))
    expect(new Set(received.values())).toEqual(new Set([10]))
  })

  it('skips pairs that already know each other and pairs whose handshake is under way', () => {
    const known = new Set([pairKey(0, 1)])
    const picks = planMeets(4, (a, b) => !known.has(pairKey(a, b)), new Set([pairKey(1, 2)]), 100)
    expect(pairsOf(picks).sort()).toEqual(['0-2', '0-3', '1-3', '2-3'])
  })

  it('has nothing left to plan once every pair of strangers is introduced', () => {
    const inFlight = new Set(pairsOf(planMeets(200, everyone, new Set(), 20_000)))
    expect(inFlight.size).toBe(19_900)
    expect(planMeets(200, everyone, inFlight, 20_000)).toEqual([])
  })
})

import {describe, expect, it} from 'vitest'

import {PreconditionError, UsageError} from '../../src/errors.js'
import {type MasterSlots, movesClash, planDrain, planRebalance, planReshard, type SlotMove} from '../../src/topology/rebalance.js'
import {countSlots, rangesToSlots, SLOT_COUNT, slotsToRanges, splitEvenly} from '../../src/topology/slots.js'

const threeFormed = (): MasterSlots[] => splitEvenly(3).map((r, i) => ({id: `m${i}`, slots: [r]}))
const plusEmpty = (masters: MasterSlots[], ...ids: string[]): MasterSlots[] => [...masters, ...ids.map((id) => ({id, slots: []}))]

/** Owner of every slot after the moves; fails the test if a move takes a slot from a master that does not hold it. */
function apply(masters: readonly MasterSlots[], moves: readonly SlotMove[]): Map<string, number[]> {
  const owner = new Map<number, string>()
  for (const m of masters) for (const s of rangesToSlots(m.slots)) owner.set(s, m.id)
  for (const move of moves) {
    for (const s of rangesToSlots(move.slots)) {
      expect(owner.get(s), `slot ${s} moved from ${move.from}`).toBe(move.from)
      owner.set(s, move.to)
    }
  }
  const byMaster = new Map<string, number[]>(masters.map((m) => [m.id, []]))
  for (const [slot, id] of owner) byMaster.get(id)!.push(slot)
  return byMaster
}

const movedCount = (moves: readonly SlotMove[]): number => moves.reduce((n, m) => n + countSlots(m.slots), 0)
const movedSlots = (moves: readonly SlotMove[]): number[] => moves.flatMap((m) => rangesToSlots(m.slots))

/**
 * The least any plan can move while ending every master within one slot of its share: what the masters above
 * their rounded-up share must give, or what the ones below their rounded-down share must take, whichever is more.
 */
function leastMovement(masters: readonly MasterSlots[], shares: Map<string, number>): number {
  const give = masters.reduce((n, m) => n + Math.max(0, countSlots(m.slots) - Math.ceil(shares.get(m.id)!)), 0)
  const take = masters.reduce((n, m) => n + Math.max(0, Math.floor(shares.get(m.id)!) - countSlots(m.slots)), 0)
  return Math.max(give, take)
}

function evenShares(masters: readonly MasterSlots[], weights: (m: MasterSlots) => number): Map<string, number> {
  const total = masters.reduce((n, m) => n + countSlots(m.slots), 0)
  const totalWeight = masters.reduce((n, m) => n + weights(m), 0)
  return new Map(masters.map((m) => [m.id, (total * weights(m)) / totalWeight]))
}

function expectWithinOneOfShare(after: Map<string, number[]>, shares: Map<string, number>): void {
  for (const [id, slots] of after) expect(Math.abs(slots.length - shares.get(id)!), id).toBeLessThan(1)
}

describe('planRebalance', () => {
  it('gives an empty master its share, every master ending within one slot of even', () => {
    const masters = plusEmpty(threeFormed(), 'm3')
    const after = apply(masters, planRebalance(masters, {useEmptyMasters: true}))
    expectWithinOneOfShare(after, evenShares(masters, () => 1))
  })

  it('moves only the slots held above the share, each once', () => {
    const masters = plusEmpty(threeFormed(), 'm3', 'm4')
    const moves = planRebalance(masters, {useEmptyMasters: true})
    expect(movedCount(moves)).toBe(leastMovement(masters, evenShares(masters, () => 1)))
    expect(new Set(movedSlots(moves)).size).toBe(movedCount(moves))
  })

  it('hands an empty master contiguous ranges taken from the ends of neighbouring masters', () => {
    const moves = planRebalance(plusEmpty(threeFormed(), 'm3'), {useEmptyMasters: true})
    const received = moves.filter((m) => m.to === 'm3').flatMap((m) => m.slots)
    expect(countSlots(received)).toBe(SLOT_COUNT / 4)
    const merged = slotsToRanges(rangesToSlots(received))
    expect(merged.length).toBeLessThanOrEqual(2)
  })

  it('leaves empty masters alone unless asked to use them', () => {
    expect(planRebalance(plusEmpty(threeFormed(), 'm3'))).toEqual([])
  })

  it('does nothing while every master is within the threshold', () => {
    const masters: MasterSlots[] = [{id: 'a', slots: [{start: 0, end: 8299}]}, {id: 'b', slots: [{start: 8300, end: 16383}]}]
    expect(planRebalance(masters, {thresholdPercent: 2})).toEqual([])
    expect(movedCount(planRebalance(masters, {thresholdPercent: 1}))).toBe(8300 - 8192)
  })

  it('gives masters slots in proportion to their weights', () => {
    const masters = threeFormed().map((m, i) => ({...m, weight: i + 1}))
    const after = apply(masters, planRebalance(masters))
    expectWithinOneOfShare(after, evenShares(masters, (m) => m.weight!))
  })

  it('empties a master of weight 0', () => {
    const masters = threeFormed().map((m) => ({...m, weight: m.id === 'm1' ? 0 : 1}))
    expect(apply(masters, planRebalance(masters)).get('m1')).toEqual([])
  })

  it('orders the moves so that one from every giver comes first, together, as they may run at once', () => {
    const masters = [...splitEvenly(4).map((r, i) => ({id: `m${i}`, slots: [r]})), {id: 'e0', slots: []}, {id: 'e1', slots: []}, {id: 'e2', slots: []}, {id: 'e3', slots: []}]
    const moves = planRebalance(masters, {useEmptyMasters: true})
    const firstRound: SlotMove[] = []
    for (const m of moves) {
      if (firstRound.some((other) => movesClash(m, other))) break
      firstRound.push(m)
    }
    expect(new Set(firstRound.map((m) => m.from))).toEqual(new Set(['m0', 'm1', 'm2', 'm3']))
  })

  it('balances scattered ownership with the least movement', () => {
    const scattered: MasterSlots[] = [
      {id: 'a', slots: [{start: 0, end: 999}, {start: 5000, end: 9999}]},
      {id: 'b', slots: [{start: 1000, end: 4999}]},
      {id: 'c', slots: [{start: 10000, end: 16383}]},
    ]
    const moves = planRebalance(scattered, {thresholdPercent: 0})
    const shares = evenShares(scattered, () => 1)
    expectWithinOneOfShare(apply(scattered, moves), shares)
    expect(movedCount(moves)).toBe(leastMovement(scattered, shares))
  })

  it('rejects a negative weight', () => {
    expect(() => planRebalance([{id: 'a', slots: [], weight: -1}])).toThrow(UsageError)
  })
})

describe('planDrain', () => {
  it('empties the removed master evenly into the others, ending even', () => {
    const four = splitEvenly(4).map((r, i) => ({id: `m${i}`, slots: [r]}))
    const moves = planDrain(four, ['m3'])
    const after = apply(four, moves)
    expect(after.get('m3')).toEqual([])
    expectWithinOneOfShare(after, new Map([['m0', SLOT_COUNT / 3], ['m1', SLOT_COUNT / 3], ['m2', SLOT_COUNT / 3], ['m3', 0]]))
    expect(moves.every((m) => m.from === 'm3')).toBe(true)
  })

  it('moves exactly the removed masters\' slots when the others are even', () => {
    const four = splitEvenly(4).map((r, i) => ({id: `m${i}`, slots: [r]}))
    const moves = planDrain(four, ['m1', 'm2'])
    expect(movedCount(moves)).toBe(countSlots(four[1].slots) + countSlots(four[2].slots))
    expect(new Set(movedSlots(moves)).size).toBe(movedCount(moves))
  })

  it('fills a staying empty master too', () => {
    const masters = plusEmpty(threeFormed(), 'm3')
    const after = apply(masters, planDrain(masters, ['m0']))
    expect(after.get('m0')).toEqual([])
    for (const id of ['m1', 'm2', 'm3']) expect(Math.abs(after.get(id)!.length - SLOT_COUNT / 3)).toBeLessThan(1)
  })

  it('refuses to drain every master', () => {
    expect(() => planDrain(threeFormed(), ['m0', 'm1', 'm2'])).toThrow(PreconditionError)
  })

  it('refuses a master it does not know', () => {
    expect(() => planDrain(threeFormed(), ['nope'])).toThrow(UsageError)
  })
})

describe('planning a reshard from one master', () => {
  it('moves every slot of the source, evening out the receivers', () => {
    const masters = threeFormed()
    const moves = planReshard(masters, 'm0', ['m1', 'm2'])
    const after = apply(masters, moves)
    expect(after.get('m0')).toEqual([])
    expect(Math.abs(after.get('m1')!.length - after.get('m2')!.length)).toBeLessThanOrEqual(1)
  })

  it('moves only the number of slots asked, from the top of the source\'s slots', () => {
    const masters = threeFormed()
    const moves = planReshard(masters, 'm0', ['m1'], 100)
    expect(moves).toEqual([{from: 'm0', to: 'm1', slots: [{start: 5361, end: 5460}]}])
  })

  it('gives the slots to the receiver that holds the fewest first', () => {
    const masters = plusEmpty(threeFormed(), 'm3')
    const moves = planReshard(masters, 'm0', ['m1', 'm3'], 1000)
    expect(moves).toEqual([{from: 'm0', to: 'm3', slots: [{start: 4461, end: 5460}]}])
  })

  it('refuses a slot count above what the source owns, or a receiver that is not a master', () => {
    expect(() => planReshard(threeFormed(), 'm0', ['m1'], 6000)).toThrow(UsageError)
    expect(() => planReshard(threeFormed(), 'm0', ['nope'])).toThrow(UsageError)
    expect(() => planReshard(threeFormed(), 'm0', ['m0'])).toThrow(UsageError)
  })
})

describe('moves that may not run at once', () => {
  it('two moves out of one master clash: MIGRATE blocks it, the second would only queue', () => {
    expect(movesClash({from: 'a', to: 'b'}, {from: 'a', to: 'c'})).toBe(true)
  })

  it('a master sending while it receives clashes: two masters sending to each other would wait on each other', () => {
    expect(movesClash({from: 'a', to: 'b'}, {from: 'b', to: 'c'})).toBe(true)
    expect(movesClash({from: 'b', to: 'c'}, {from: 'a', to: 'b'})).toBe(true)
  })

  it('several senders filling one master do not clash', () => {
    expect(movesClash({from: 'a', to: 'c'}, {from: 'b', to: 'c'})).toBe(false)
  })
})

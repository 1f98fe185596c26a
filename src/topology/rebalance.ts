import {PreconditionError, UsageError} from '../errors.js'
import {rangesToSlots, SLOT_COUNT, type SlotRange, slotsToRanges} from './slots.js'
import {plural} from '../util/words.js'

/** A master as the planners see it: what it owns now and how big a share it should own. */
export interface MasterSlots {
  id: string
  slots: readonly SlotRange[]
  /** Relative share of the slots (redis-cli's --cluster-weight); 1 when absent, 0 empties the master. */
  weight?: number
}

/** Hand these slots from one master to another. */
export interface SlotMove {
  from: string
  to: string
  slots: SlotRange[]
}

export interface RebalanceOptions {
  /** Do nothing unless some master is off its share by more than this many percent (redis-cli's default: 2). */
  thresholdPercent?: number
  /** Give slots to masters that own none (redis-cli's --cluster-use-empty-masters); they are left out otherwise. */
  useEmptyMasters?: boolean
}

interface Participant {
  id: string
  /** Owned slots, ascending. */
  slots: number[]
  weight: number
  target: number
}

/**
 * Moves that bring every master to its weighted share of the slots (within one slot), moving no slot twice and
 * no more slots than the masters above their share hold in excess. Like redis-cli's rebalance, but each giving
 * master hands over one block from an end of its slots, and blocks are dealt out in slot order, so receivers
 * get contiguous ranges where the givers are neighbours, and the moves form a chain that runs mostly in parallel.
 */
export function planRebalance(masters: readonly MasterSlots[], options: RebalanceOptions = {}): SlotMove[] {
  const threshold = options.thresholdPercent ?? 2
  const participants = withTargets(masters.map((m) => {
    const slots = rangesToSlots(slotsToRanges(rangesToSlots(m.slots)))
    const weight = weightOf(m)
    const eligible = slots.length > 0 || options.useEmptyMasters === true
    return {id: m.id, slots, weight: eligible ? weight : 0, target: 0}
  }))
  if (!participants.some((p) => offShare(p, threshold))) return []
  return dealOut(participants)
}

/**
 * Moves that empty the removed masters into the ones that stay, ending with every staying master (empty ones
 * included) at its share.
 */
export function planDrain(masters: readonly MasterSlots[], removedIds: readonly string[]): SlotMove[] {
  const removed = new Set(removedIds)
  const unknown = [...removed].filter((id) => !masters.some((m) => m.id === id))
  if (unknown.length > 0) throw new UsageError(`Cannot drain unknown master(s): ${unknown.join(', ')}.`)
  if (masters.every((m) => removed.has(m.id))) {
    throw new PreconditionError('Cannot drain every master: the slots need at least one master that stays.')
  }
  const weighted = masters.map((m) => ({...m, weight: removed.has(m.id) ? 0 : weightOf(m)}))
  return planRebalance(weighted, {thresholdPercent: 0, useEmptyMasters: true})
}

/**
 * Moves `count` slots (all when absent) of one master to the given masters, each slot to whichever receiver
 * holds the fewest at that point, so the receivers end as even as they can. The source gives its highest slots
 * first, and each receiver gets them as contiguous a block as that allows.
 */
export function planReshard(masters: readonly MasterSlots[], from: string, to: readonly string[], count?: number): SlotMove[] {
  const source = masters.find((m) => m.id === from)
  if (!source) throw new UsageError(`Cannot reshard from ${from}: it is not a master of this cluster.`)
  if (to.length === 0) throw new UsageError('Reshard needs at least one master to receive the slots.')
  if (to.includes(from)) throw new UsageError('A master cannot reshard slots to itself.')
  const held = rangesToSlots(source.slots).sort((a, b) => a - b)
  if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > held.length)) {
    throw new UsageError(`--slots must be between 1 and the ${plural(held.length, 'slot')} the source owns; got ${count}.`)
  }
  const giving = held.slice(held.length - (count ?? held.length))
  const receivers = to.map((id) => {
    const master = masters.find((m) => m.id === id)
    if (!master) throw new UsageError(`Cannot reshard to ${id}: it is not a master of this cluster.`)
    return {id, owned: rangesToSlots(master.slots).length, given: [] as number[]}
  })
  for (const slot of giving) {
    const fewest = receivers.reduce((a, b) => (b.owned + b.given.length < a.owned + a.given.length ? b : a))
    fewest.given.push(slot)
  }
  // Slot by slot the receivers take turns; regrouped, each takes one stretch of the source's slots instead.
  let offset = 0
  const moves: SlotMove[] = []
  for (const r of receivers) {
    const stretch = giving.slice(offset, offset + r.given.length)
    offset += r.given.length
    if (stretch.length > 0) moves.push({from, to: r.id, slots: slotsToRanges(stretch)})
  }
  return moves
}

function weightOf(master: MasterSlots): number {
  const weight = master.weight ?? 1
  if (!Number.isFinite(weight) || weight < 0) throw new UsageError(`Weight of master ${master.id} must be a number >= 0, got ${weight}.`)
  return weight
}

/**
 * Integer shares that add up to the slots held. Where the exact share has a fraction, the extra slot goes first
 * to the masters holding the most above their rounded-down share: each such slot is one fewer to move.
 */
function withTargets(participants: Participant[]): Participant[] {
  const total = participants.reduce((n, p) => n + p.slots.length, 0)
  const totalWeight = participants.reduce((n, p) => n + p.weight, 0)
  if (totalWeight === 0) {
    if (total === 0) return participants
    throw new PreconditionError('No master can take slots: every master holding slots has weight 0.', [
      'Give at least one master a weight above 0, or allow empty masters to receive slots.',
    ])
  }
  const exact = participants.map((p) => (total * p.weight) / totalWeight)
  const floors = exact.map((e) => Math.floor(e + 1e-9))
  let remainder = total - floors.reduce((a, b) => a + b, 0)
  const byClaim = participants.map((_, i) => i)
    .filter((i) => participants[i].weight > 0)
    .sort((a, b) => (participants[b].slots.length - floors[b]) - (participants[a].slots.length - floors[a]) || a - b)
  const fractional = byClaim.filter((i) => exact[i] - floors[i] > 1e-9)
  for (const i of [...fractional, ...byClaim.filter((i) => !fractional.includes(i))]) {
    if (remainder === 0) break
    floors[i] += 1
    remainder -= 1
  }
  participants.forEach((p, i) => { p.target = floors[i] })
  return participants
}

function offShare(p: Participant, thresholdPercent: number): boolean {
  if (p.target === 0) return p.slots.length > 0
  return (Math.abs(p.slots.length - p.target) / p.target) * 100 > thresholdPercent
}

function dealOut(participants: Participant[]): SlotMove[] {
  const givers = participants.filter((p) => p.slots.length > p.target).sort((a, b) => a.slots[0] - b.slots[0])
  const takers = participants.filter((p) => p.slots.length < p.target)
    .sort((a, b) => (a.slots[0] ?? SLOT_COUNT) - (b.slots[0] ?? SLOT_COUNT))
  // Even givers hand over their highest slots, odd ones their lowest: neighbouring givers' blocks then touch.
  const given = givers.map((g, i) => {
    const surplus = g.slots.length - g.target
    return {id: g.id, slots: i % 2 === 0 ? g.slots.slice(-surplus) : g.slots.slice(0, surplus)}
  })
  const moves: SlotMove[] = []
  let giver = 0
  let offset = 0
  for (const taker of takers) {
    let need = taker.target - taker.slots.length
    while (need > 0) {
      const block = given[giver]
      const take = Math.min(need, block.slots.length - offset)
      moves.push({from: block.id, to: taker.id, slots: slotsToRanges(block.slots.slice(offset, offset + take))})
      need -= take
      offset += take
      if (offset === block.slots.length) {
        giver += 1
        offset = 0
      }
    }
  }
  return inParallelRounds(moves)
}

/**
 * Two moves that may not run at once: they share a sender, or one sends from the master the other sends to. MIGRATE
 * blocks its sender, so a second move out of it would only queue; and a master blocked in MIGRATE cannot answer
 * another sender's RESTORE, so two masters sending to each other would both wait for MIGRATE's timeout. Several
 * senders may fill one receiver at once.
 */
export function movesClash(a: Pick<SlotMove, 'from' | 'to'>, b: Pick<SlotMove, 'from' | 'to'>): boolean {
  return a.from === b.from || a.from === b.to || a.to === b.from
}

/** Orders moves so that each run of moves that may run at once comes together (greedy colouring). */
function inParallelRounds(moves: SlotMove[]): SlotMove[] {
  const rounds: SlotMove[][] = []
  for (const move of moves) {
    const round = rounds.find((r) => !r.some((other) => movesClash(move, other)))
    if (round) round.push(move)
    else rounds.push([move])
  }
  return rounds.flat()
}

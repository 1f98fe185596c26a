import {InterruptedError, UsageError} from '../errors.js'
import {movesClash, type SlotMove} from '../topology/rebalance.js'
import {countSlots, rangesToSlots} from '../topology/slots.js'
import {parseClusterNodes} from './cluster-nodes.js'
import {commandFailed} from './commands.js'
import {addressKey, type NodeAddress, type RedisConnector} from './connection.js'
import {type MasterRef, migrateSlots, type MigrateOptions} from './migrate-slots.js'
import {finishOpenSlots} from './open-slots.js'
import {interruption} from '../util/interrupt.js'
import {waitUntil} from '../util/wait.js'
import {agree, plural} from '../util/words.js'

export interface ExecuteOptions extends Omit<MigrateOptions, 'otherMasters' | 'onProgress'> {
  onProgress?: (progress: PlanProgress) => void
  /** How long the masters may take to agree on the new owners once every move is done. */
  convergeTimeoutMs?: number
  /** Moves running at once; MOVES_AT_ONCE when absent. */
  movesAtOnce?: number
}

/**
 * Moves running at once, whatever the plan allows. Each move's slot claims go to every master, and each sender's
 * RESTOREs land on its receiver: a scale from 100 to 101 masters ran 100 moves into the new master at once, which
 * then left the cluster bus unanswered past cluster-node-timeout on 2 cores and its replica failed it over mid-move
 * (bench/README.md "100 masters"). Filling one new master from three or four givers keeps all of them at once.
 */
export const MOVES_AT_ONCE = 8

export interface PlanProgress {
  movesDone: number
  movesTotal: number
  slotsDone: number
  slotsTotal: number
  keysMoved: number
  keysPerSecond: number
}

/** A plan's run: its last progress, and the keys each move of the plan carried, in plan order. */
export interface PlanResult extends PlanProgress {
  keysPerMove: number[]
}

/**
 * Runs a plan of moves, as many at once as may run side by side (movesClash) up to MOVES_AT_ONCE, then waits until
 * every master names the new owner of every moved slot. Filling an empty master thus takes from every giving master
 * at once. Moves that
 * clash keep their plan order. `masters` holds every master of the cluster by ID (the ones outside the plan are told
 * the new owners too).
 */
export async function executeMoves(connector: RedisConnector, moves: readonly SlotMove[], masters: ReadonlyMap<string, NodeAddress>,
  options: ExecuteOptions = {}): Promise<PlanResult> {
  const ref = (id: string): MasterRef => {
    const address = masters.get(id)
    if (!address) throw new UsageError(`The plan names master ${id}, which is not among the cluster's masters.`)
    return {id, address}
  }
  const work = moves.flatMap((m, index) => (countSlots(m.slots) > 0 ? [{index, from: ref(m.from), to: ref(m.to), slots: rangesToSlots(m.slots)}] : []))
  // One failing move stops the others between batches, so that nothing is still moving when this throws.
  const stop = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal
  const finished = new Set<number>()
  const running = new Map<number, Promise<void>>()
  let failure: {error: unknown} | undefined

  const started = Date.now()
  const done = work.map(() => ({slots: 0, keys: 0}))
  const progress = (): PlanProgress => {
    const keysMoved = done.reduce((n, d) => n + d.keys, 0)
    return {
      movesDone: finished.size,
      movesTotal: work.length,
      slotsDone: done.reduce((n, d) => n + d.slots, 0),
      slotsTotal: work.reduce((n, w) => n + w.slots.length, 0),
      keysMoved,
      keysPerSecond: Math.round(keysMoved / Math.max(0.001, (Date.now() - started) / 1000)),
    }
  }

  const ids = ({from, to}: {from: MasterRef; to: MasterRef}): {from: string; to: string} => ({from: from.id, to: to.id})
  const clash = (a: number, b: number): boolean => movesClash(ids(work[a]), ids(work[b]))
  // A move waits while it clashes with a running one, or with an earlier one still waiting (plan order).
  const waiting = (j: number): boolean => !finished.has(j) && !running.has(j)
  const startable = (i: number): boolean => running.size < (options.movesAtOnce ?? MOVES_AT_ONCE) &&
    ![...running.keys()].some((j) => clash(i, j)) && !work.slice(0, i).some((_, j) => waiting(j) && clash(i, j))
  const start = (i: number): void => {
    const {from, to, slots} = work[i]
    const others = [...masters].filter(([id]) => id !== from.id && id !== to.id).map(([id, address]) => ({id, address}))
    running.set(i, migrateSlots(connector, from, to, slots, {
      ...options, signal, otherMasters: others,
      onProgress: (p) => {
        done[i] = {slots: p.slotsDone, keys: p.keysMoved}
        options.onProgress?.(progress())
      },
    }).then(() => {
      finished.add(i)
      options.onProgress?.(progress())
    }, (error: unknown) => {
      failure ??= {error}
      stop.abort()
    }).finally(() => running.delete(i)))
  }

  for (;;) {
    if (!failure && !options.signal?.aborted) work.forEach((_, i) => { if (waiting(i) && startable(i)) start(i) })
    if (running.size === 0) break
    await Promise.race(running.values())
  }
  if (options.signal?.aborted && finished.size < work.length && (!failure || failure.error instanceof InterruptedError)) {
    // Each move finished the batches it had open; a slot still open (a move that failed, a node that restarted)
    // is closed here, so that a stop leaves every slot with one owner.
    const closed = await finishOpenSlots(connector, [...masters].map(([id, address]) => ({id, address})))
    const p = progress()
    throw interruption(options.signal, `after moving ${p.slotsDone} of ${plural(p.slotsTotal, 'slot')} (${plural(p.keysMoved, 'key')}); the batches under way landed${
      closed.length > 0 ? ` and ${plural(closed.length, 'slot')} left open ${agree(closed.length, 'was', 'were')} finished` : ''} and no slot is left open`)
  }
  if (failure) throw failure.error

  const owners = new Map<number, string>()
  for (const w of work) for (const s of w.slots) owners.set(s, w.to.id)
  await waitForOwners(connector, [...masters.values()], owners, options.convergeTimeoutMs ?? 30_000, options.signal)
  options.onProgress?.(progress())
  const keysPerMove = moves.map(() => 0)
  for (const [i, w] of work.entries()) keysPerMove[w.index] = done[i].keys
  return {...progress(), keysPerMove}
}

/** Polls every master's CLUSTER NODES until each one names the expected owner of every slot given. */
async function waitForOwners(connector: RedisConnector, masters: readonly NodeAddress[], owners: ReadonlyMap<number, string>,
  timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  await waitUntil('every master to name the new owner of each moved slot', async () => {
    const disagreeing = (await Promise.all(masters.map(async (addr) => (await agrees(connector, addr, owners)) ? [] : [addr]))).flat()
    return disagreeing.length === 0 ? {done: true, value: undefined} : {done: false, missing: `${disagreeing.map(addressKey).join(', ')} still disagree`}
  }, {timeoutMs, intervalMs: 25, signal})
}

async function agrees(connector: RedisConnector, addr: NodeAddress, owners: ReadonlyMap<number, string>): Promise<boolean> {
  const client = await connector.client(addr)
  let reply: string
  try {
    reply = String(await client.call('CLUSTER', 'NODES'))
  } catch (error) {
    throw commandFailed(addr, 'CLUSTER NODES', error, client)
  }
  const lines = parseClusterNodes(reply)
  // A master drained of its last slot may have become a replica meanwhile: it is no longer asked to agree.
  if (lines.find((l) => l.myself)?.role === 'replica') return true
  const seen = new Map<number, string>()
  for (const line of lines) for (const s of rangesToSlots(line.slots)) if (owners.has(s)) seen.set(s, line.id)
  return [...owners].every(([slot, id]) => seen.get(slot) === id)
}

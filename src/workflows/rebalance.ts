import type {ListrTask} from 'listr2'

import {BugError, RedisUnreachableError, UsageError} from '../errors.js'
import type {NodeAddress, RedisConnector} from '../redis/connection.js'
import {executeMoves, type PlanProgress} from '../redis/execute-moves.js'
import {keysPerSlot} from '../redis/migrate-keys.js'
import type {MasterRef} from '../redis/migrate-slots.js'
import {finishOpenSlots} from '../redis/open-slots.js'
import {setReplicaMigration} from '../redis/replica-migration.js'
import {checkTopology} from '../topology/check.js'
import {afterClosingOpenSlots, openSlotNumbers, podAddress, podName, slotlessMasters, type Topology} from '../topology/model.js'
import {planRebalance, type MasterSlots, type SlotMove} from '../topology/rebalance.js'
import {countSlots, rangesToSlots} from '../topology/slots.js'
import {observeLoaded, type OpenCluster} from './inspect.js'
import {refuseUnhealthy} from './preconditions.js'
import {movesProgress} from './progress.js'
import {plural} from '../util/words.js'

export interface RebalanceInput {
  thresholdPercent: number
  useEmptyMasters: boolean
  /** Pod name → relative weight. */
  weights: Map<string, number>
  force: boolean
  timeoutMs: number
}

export interface RebalanceContext {
  cluster: OpenCluster
  input: RebalanceInput
  /** Plans other moves than an even spread (slots reshard); read again after open slots are finished. */
  planMoves?: (topology: Topology) => SlotMove[]
  /** Refuses what the command line got wrong about this cluster (a replica named as a master), before anything changes. */
  validate?: (topology: Topology) => void
  /** Keep replica migration off while moving, so that a master emptied by the moves stays a master (reshard before node del). */
  holdReplicaMigration?: boolean
  topology?: Topology
  closedSlots: number[]
  moves: SlotMove[]
  /** The keys each of `moves` carries: counted on its giver when a dry run plans, as moved when the moves run. */
  moveKeys?: number[]
  /** Masters in the cluster that own no slots and that an even spread left out (without --use-empty-masters). */
  leftOut?: string[]
  progress?: PlanProgress
}

/**
 * Findings that make moving slots unsafe; open slots are not among them: this workflow finishes them first.
 * Nor are findings about `joining` pods alone (a run that joins them and was interrupted): the run finishes them.
 * With `slotlessMayFail`, the caller joins nodes and waits for cluster_state:ok before moving anything, so nodes that
 * own no slots may still report cluster_state:fail: a master an interrupted run has just joined does so for Redis's
 * rejoin delay (up to 5 s).
 */
export function blockingFindings(topology: Topology, options: {joining?: ReadonlySet<string>; slotlessMayFail?: boolean} = {}): string[] {
  const joining = options.joining ?? new Set<string>()
  const ownNoSlots = (pods: readonly string[]): boolean => pods.every((pod) => (topology.nodes.find((n) => podName(n) === pod)?.slotCount ?? 0) === 0)
  return checkTopology(topology)
    .filter((f) => f.severity === 'error' && f.code !== 'open-slots' && !(f.pods.length > 0 && f.pods.every((p) => joining.has(p))) &&
      !(options.slotlessMayFail && f.code === 'cluster-state-fail' && ownNoSlots(f.pods)))
    .map((f) => f.message)
}

/** The masters of the cluster that answered, as the migration primitives take them. */
export const masterRefs = (topology: Topology): MasterRef[] =>
  topology.nodes.filter((n) => n.pod && n.reachable && n.role === 'master' && n.id).map((n) => ({id: n.id!, address: n.address}))

export function mastersForPlan(topology: Topology, weights: Map<string, number>): MasterSlots[] {
  const masters = topology.nodes.filter((n) => n.pod && n.role === 'master' && n.id)
  for (const pod of weights.keys()) {
    if (!masters.some((m) => m.pod!.pod === pod)) throw new UsageError(`--weight names ${pod}, which is not a master of this cluster.`)
  }
  return masters.map((m) => ({id: m.id!, slots: m.slots, weight: weights.get(m.pod!.pod)}))
}

/** A move as dry runs and runs report it: masters by pod, and the keys it carries as counted when it was planned. */
export interface MoveWords {
  from: string
  to: string
  slots: number
  keys: number
}

export function describeMoves(topology: Topology, moves: readonly SlotMove[], keys: readonly number[]): MoveWords[] {
  const byId = new Map(topology.nodes.flatMap((n) => (n.id ? [[n.id, podName(n)] as const] : [])))
  return moves.map((m, i) => ({from: byId.get(m.from) ?? m.from, to: byId.get(m.to) ?? m.to, slots: countSlots(m.slots), keys: keys[i] ?? 0}))
}

/**
 * The keys each move carries, counted on its giving master (CLUSTER COUNTKEYSINSLOT, constant time per slot) when the
 * plan is made: slots are seldom equally full, so a figure from the giver's average would not be what the run moves.
 * `addressOf` finds the giver named by the move (a node id, or a pod before the pods exist).
 */
export async function countMoveKeys(connector: RedisConnector, moves: readonly SlotMove[], addressOf: (giver: string) => NodeAddress | undefined): Promise<number[]> {
  return Promise.all(moves.map(async (m) => {
    const address = addressOf(m.from)
    if (!address) throw new BugError(`The plan moves slots from ${m.from}, which is not a node of the cluster.`)
    const counts = await keysPerSlot(await connector.client(address), address, rangesToSlots(m.slots))
    return counts.reduce((sum, n) => sum + n, 0)
  }))
}

/** countMoveKeys for moves between masters named by node id. */
export const countKeysOf = (connector: RedisConnector, topology: Topology, moves: readonly SlotMove[]): Promise<number[]> =>
  countMoveKeys(connector, moves, (id) => topology.nodes.find((n) => n.id === id)?.address)

/** A node lost in the middle of a move (a pod deleted or restarted) leaves slots open: say how to resume. */
function interruptedMove(error: RedisUnreachableError): RedisUnreachableError {
  return new RedisUnreachableError(error.message, [
    'If a pod was deleted or restarted during the move (kubectl get pods), wait until it is Ready again, run redisctl repair to close the slots left open, then run the same command again: it moves the rest.',
    ...error.suggestions,
  ], {cause: error})
}

function planMoves(ctx: RebalanceContext, topology: Topology): SlotMove[] {
  if (ctx.planMoves) return ctx.planMoves(topology)
  const {thresholdPercent, useEmptyMasters, weights} = ctx.input
  ctx.leftOut = useEmptyMasters ? [] : slotlessMasters(topology).map(podName).filter((pod) => weights.get(pod) !== 0)
  return planRebalance(mastersForPlan(topology, weights), {thresholdPercent, useEmptyMasters})
}

/** Reads every node and refuses what the command line got wrong about them; changes nothing. */
async function observeAndValidate(ctx: RebalanceContext): Promise<Topology> {
  ctx.topology = await observeLoaded(ctx.cluster, ctx.input.timeoutMs)
  if (ctx.validate) ctx.validate(ctx.topology)
  else mastersForPlan(ctx.topology, ctx.input.weights)
  return ctx.topology
}

/** Reads every node and refuses what the command line got wrong about them, or an unhealthy cluster; changes nothing. */
async function observeSafe(ctx: RebalanceContext): Promise<Topology> {
  const topology = await observeAndValidate(ctx)
  refuseUnhealthy(blockingFindings(topology), ctx.input.force)
  return topology
}

/** What --dry-run shows: the moves planned on the cluster as it is, after the checks the run's first step makes. */
export async function previewMoves(ctx: RebalanceContext): Promise<void> {
  ctx.moves = planMoves(ctx, afterClosingOpenSlots(await observeSafe(ctx)))
  ctx.moveKeys = await countKeysOf(ctx.cluster.access.connector, ctx.topology!, ctx.moves)
  ctx.closedSlots = openSlotNumbers(ctx.topology!)
}

export function rebalanceTasks(): ListrTask<RebalanceContext>[] {
  return [
    {
      title: 'Read every node',
      task: async (ctx) => {
        await observeSafe(ctx)
      },
    },
    {
      title: 'Finish slots left open by an interrupted move',
      skip: (ctx) => (ctx.topology!.openSlots.length === 0 ? 'no slot is open' : false),
      task: async (ctx) => {
        ctx.closedSlots = await finishOpenSlots(ctx.cluster.access.connector, masterRefs(ctx.topology!))
        ctx.topology = await ctx.cluster.observe()
      },
    },
    {
      title: 'Plan the moves',
      task: async (ctx, task) => {
        ctx.moves = planMoves(ctx, ctx.topology!)
        // The keys are not counted first (a round trip per slot on each giver): the moves report what they carried.
        const slots = ctx.moves.reduce((n, m) => n + countSlots(m.slots), 0)
        task.title = ctx.moves.length === 0 ? 'Nothing to move' : `Planned ${plural(ctx.moves.length, 'move')} of ${plural(slots, 'slot')}`
      },
    },
    {
      title: 'Move the slots',
      skip: (ctx) => (ctx.moves.length === 0 ? 'nothing to move' : false),
      task: async (ctx, task) => {
        const masters = new Map<string, NodeAddress>(masterRefs(ctx.topology!).map((m) => [m.id, m.address]))
        const {connector} = ctx.cluster.access
        const everyPod = ctx.cluster.pods.map(podAddress)
        if (ctx.holdReplicaMigration) await setReplicaMigration(connector, everyPod, false)
        try {
          const result = await executeMoves(connector, ctx.moves, masters, {
            convergeTimeoutMs: ctx.input.timeoutMs,
            signal: connector.signal,
            onProgress: movesProgress(task),
          })
          ctx.progress = result
          ctx.moveKeys = result.keysPerMove
        } catch (error) {
          throw error instanceof RedisUnreachableError ? interruptedMove(error) : error
        }
        if (ctx.holdReplicaMigration) await setReplicaMigration(connector, everyPod, true)
        task.title = `Moved ${plural(ctx.progress.slotsDone, 'slot')} and ${plural(ctx.progress.keysMoved, 'key')} (${Math.round(ctx.progress.keysPerSecond)} keys/s)`
      },
    },
  ]
}

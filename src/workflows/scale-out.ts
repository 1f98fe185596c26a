import type {ListrTask} from 'listr2'

import {UsageError} from '../errors.js'
import {afterClosingOpenSlots, openSlotNumbers, type PodRef, type Topology} from '../topology/model.js'
import type {RebalanceOptions} from '../topology/rebalance.js'
import {planScaleOut, previewScaleOut, type ScaleOutPreview} from '../topology/scale-out-plan.js'
import {shapePodCount, type ClusterShape} from '../topology/shape.js'
import {countSlots} from '../topology/slots.js'
import {growTasks, type GrowContext} from './grow.js'
import {refuseUnhealthy, requireStatefulSet} from './preconditions.js'
import {observeLoaded, openCluster, type OpenCluster} from './inspect.js'
import {blockingFindings, countMoveKeys, rebalanceTasks, type MoveWords, type RebalanceContext} from './rebalance.js'
import {plural, shapeWords} from '../util/words.js'

export interface ScaleOutContext extends GrowContext {
  shape: ClusterShape
  force: boolean
  rebalance?: RebalanceContext
}

/** The scale evens the slots out to within 1%, new (empty) masters included. */
const SCALE_REBALANCE = {thresholdPercent: 1, useEmptyMasters: true} as const satisfies RebalanceOptions

/** The StatefulSet must exist and be redisctl's; its pods may only grow here. */
export async function requireGrowableStatefulSet(ctx: ScaleOutContext): Promise<number> {
  const sts = await requireStatefulSet(ctx.target.kube, ctx.statefulSet)
  const current = sts.spec?.replicas ?? 0
  const wanted = shapePodCount(ctx.shape)
  if (wanted < current) {
    throw new UsageError(`${shapeWords(ctx.shape)} need ${plural(wanted, 'pod')}, fewer than the ${current} running: that is a scale-in.`, [
      'Scale-in (moving slots off the highest ordinals first) is not available yet; nothing was changed.',
    ])
  }
  return current
}

/**
 * Reads every node and refuses an unhealthy cluster (unless --force): the dry run and the run's first step, so that
 * the dry run refuses what the run would. Nodes without slots may still report cluster_state:fail: the run joins
 * them and waits for cluster_state:ok before it moves anything.
 */
async function observeHealthy(ctx: ScaleOutContext, cluster: OpenCluster): Promise<Topology> {
  const topology = await observeLoaded(cluster, ctx.timeoutMs)
  refuseUnhealthy(blockingFindings(topology, {slotlessMayFail: true}), ctx.force)
  return topology
}

export function scaleOutTasks(): ListrTask<ScaleOutContext>[] {
  return [
    {
      title: 'Check the cluster before changing it',
      task: async (ctx) => {
        ctx.podsBefore = await requireGrowableStatefulSet(ctx)
        const cluster = await openCluster(ctx.options, ctx.target)
        try {
          await observeHealthy(ctx, cluster)
        } finally {
          await cluster.access.close()
        }
      },
    },
    ...growTasks<ScaleOutContext>({
      podsWanted: (ctx) => shapePodCount(ctx.shape),
      plan: (ctx, topology) => {
        const planned = planScaleOut(topology, ctx.shape.masters, ctx.shape.replicasPerMaster)
        ctx.layout = planned.layout
        ctx.placement = planned.placement
        ctx.rebalance = {
          cluster: ctx.cluster!,
          input: {...SCALE_REBALANCE, weights: new Map(), force: ctx.force, timeoutMs: ctx.timeoutMs},
          closedSlots: [],
          moves: [],
        }
      },
    }),
    ...rebalanceTasks().map(inRebalance),
  ]
}

/** Runs a rebalance task as a step of the scale, on the rebalance context the scale prepared. */
function inRebalance(step: ListrTask<RebalanceContext>): ListrTask<ScaleOutContext> {
  const skip = step.skip
  return {
    title: step.title,
    skip: typeof skip === 'function' ? (ctx) => skip(ctx.rebalance!) : skip,
    task: async (ctx, task) => {
      await step.task(ctx.rebalance!, task as never)
    },
  }
}

export interface ScaleOutPlanPreview extends Omit<ScaleOutPreview, 'moves'> {
  /** Each move with the keys it carries, counted on the giver: what the run moves when nothing writes meanwhile. */
  moves: MoveWords[]
  podsBefore: number
  podsAfter: number
  /** Slots an interrupted move left open: the run closes them before it moves any. */
  openSlots: number[]
}

/**
 * What `scale --dry-run` shows, read from the live cluster and changing nothing: the pods the StatefulSet would add
 * (their Kubernetes nodes are only known once they are scheduled), what each joining pod becomes, and the moves.
 */
export async function planScaleOutPreview(ctx: ScaleOutContext): Promise<ScaleOutPlanPreview> {
  const podsBefore = await requireGrowableStatefulSet(ctx)
  const podsAfter = shapePodCount(ctx.shape)
  const cluster = await openCluster(ctx.options, ctx.target)
  try {
    const topology = await observeHealthy(ctx, cluster)
    const port = topology.pods[0]?.port ?? 6379
    const newPods = Array.from({length: podsAfter - podsBefore}, (_, i): PodRef =>
      ({pod: `${ctx.statefulSet}-${podsBefore + i}`, ordinal: podsBefore + i, ip: '', port}))
    const preview = previewScaleOut(afterClosingOpenSlots(topology), newPods, ctx.shape.masters, ctx.shape.replicasPerMaster, SCALE_REBALANCE)
    const keys = await countMoveKeys(cluster.access.connector, preview.moves, (pod) => topology.nodes.find((n) => n.pod?.pod === pod)?.address)
    return {
      ...preview,
      moves: preview.moves.map((m, i) => ({from: m.from, to: m.to, slots: countSlots(m.slots), keys: keys[i]})),
      podsBefore, podsAfter, openSlots: openSlotNumbers(topology),
    }
  } finally {
    await cluster.access.close()
  }
}

import type {ListrTask} from 'listr2'

import {NotFoundError, PreconditionError, UsageError} from '../errors.js'
import {readStatefulSet, scaleStatefulSet} from '../kube/statefulset.js'
import {FORM_STEPS} from '../redis/form.js'
import {waitWhileLoading} from '../redis/observe.js'
import type {ClusterLayout} from '../topology/model.js'
import type {Placement} from '../topology/placement.js'
import {planScaleOut} from '../topology/scale-out-plan.js'
import {shapePodCount, type ClusterShape} from '../topology/shape.js'
import {openCluster, type OpenCluster} from './inspect.js'
import {waitForReadyPods} from './pods.js'
import {blockingFindings, rebalanceTasks, type RebalanceContext} from './rebalance.js'
import type {KubeTargetSession, TargetOptions} from './session.js'

/** Forming steps that apply to a cluster that already runs: its slots and epochs are settled. */
const JOIN_STEPS = FORM_STEPS.filter((s) => s.step !== 'assign-slots' && s.step !== 'config-epochs')

export interface ScaleOutContext {
  options: TargetOptions
  target: KubeTargetSession
  statefulSet: string
  shape: ClusterShape
  force: boolean
  timeoutMs: number
  /** The StatefulSet's replicas when the scale began. */
  podsBefore?: number
  cluster?: OpenCluster
  layout?: ClusterLayout
  placement?: Placement
  actions: string[]
  rebalance?: RebalanceContext
}

/** The StatefulSet must exist and be redisctl's; its pods may only grow here. */
export async function requireGrowableStatefulSet(ctx: ScaleOutContext): Promise<number> {
  const sts = await readStatefulSet(ctx.target.kube, ctx.statefulSet)
  if (!sts) {
    throw new NotFoundError(`There is no StatefulSet ${ctx.statefulSet} in namespace ${ctx.target.kube.namespace}.`, [
      'Pass --name of a cluster made by redisctl cluster create (kubectl get statefulsets).',
    ])
  }
  const current = sts.spec?.replicas ?? 0
  const wanted = shapePodCount(ctx.shape)
  if (wanted < current) {
    throw new UsageError(`${ctx.shape.masters} masters with ${ctx.shape.replicasPerMaster} replicas each need ${wanted} pods, fewer than the ${current} running: that is a scale-in.`, [
      'Scale-in (moving slots off the highest ordinals first) is not available yet; nothing was changed.',
    ])
  }
  return current
}

export function scaleOutTasks(): ListrTask<ScaleOutContext>[] {
  return [
    {
      title: 'Check the cluster before changing it',
      task: async (ctx) => {
        ctx.podsBefore = await requireGrowableStatefulSet(ctx)
        const cluster = await openCluster(ctx.options)
        try {
          const blocking = blockingFindings(await cluster.observe(), {joining: true})
          if (blocking.length > 0 && !ctx.force) {
            throw new PreconditionError(`The cluster is not healthy, so nothing was changed: ${blocking.join(' ')}`, [
              'Run redisctl check to see every finding, or pass --force to scale anyway.',
            ])
          }
        } finally {
          await cluster.access.close()
        }
      },
    },
    {
      title: 'Scale the StatefulSet',
      task: async (ctx, task) => {
        const wanted = shapePodCount(ctx.shape)
        if (ctx.podsBefore === wanted) {
          task.skip(`already ${wanted} pods`)
          return
        }
        await scaleStatefulSet(ctx.target.kube, ctx.statefulSet, wanted)
        task.title = `Scaled the StatefulSet to ${wanted} pods`
      },
    },
    {
      title: 'Wait for the new pods to be Ready',
      task: async (ctx) => {
        await waitForReadyPods(ctx.target.kube, ctx.target.selector, shapePodCount(ctx.shape), ctx.timeoutMs)
        ctx.cluster = await openCluster(ctx.options)
        await waitWhileLoading(ctx.cluster.access.connector, ctx.cluster.pods.map((p) => ({host: p.ip, port: p.port})), ctx.timeoutMs)
        const planned = planScaleOut(await ctx.cluster.observe(), ctx.shape.masters, ctx.shape.replicasPerMaster)
        ctx.layout = planned.layout
        ctx.placement = planned.placement
        ctx.rebalance = {
          cluster: ctx.cluster,
          input: {thresholdPercent: 1, useEmptyMasters: true, weights: new Map(), force: ctx.force, timeoutMs: ctx.timeoutMs},
          closedSlots: [],
          moves: [],
        }
      },
    },
    ...JOIN_STEPS.map((step): ListrTask<ScaleOutContext> => ({
      title: step.title,
      task: async (ctx, task) => {
        ctx.actions.push(...await step.run(ctx.cluster!.access.connector, ctx.layout!, {
          timeoutMs: ctx.timeoutMs,
          onProgress: (p) => {
            if (task.output !== p.message) task.output = p.message
          },
        }))
      },
    })),
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

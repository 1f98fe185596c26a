import type {ListrTask} from 'listr2'

import {scaleStatefulSet} from '../kube/statefulset.js'
import {FORM_STEPS} from '../redis/form.js'
import {type ClusterLayout, type Topology} from '../topology/model.js'
import type {Placement} from '../topology/placement.js'
import {observeEveryPodLoaded, openCluster, type OpenCluster} from './inspect.js'
import {waitForReadyPods} from './pods.js'
import {progress, runFormStep} from './progress.js'
import type {KubeTargetSession, TargetOptions} from './session.js'
import {plural} from '../util/words.js'

/** Forming steps that apply to a cluster that already runs: its slots and epochs are settled. */
export const JOIN_STEPS = FORM_STEPS.filter((s) => s.step !== 'assign-slots' && s.step !== 'config-epochs')

/** What every way of growing the cluster (scale, node add, node add-replica) shares. */
export interface GrowContext {
  options: TargetOptions
  target: KubeTargetSession
  statefulSet: string
  timeoutMs: number
  /** The StatefulSet's replicas when the run began. */
  podsBefore?: number
  /** Open from the moment the pods are Ready; the caller closes its access. */
  cluster?: OpenCluster
  layout?: ClusterLayout
  placement?: Placement
  actions: string[]
}

/** Only a cluster with a StatefulSet (made by redisctl cluster create) can grow. */
export interface GrowSteps<Ctx> {
  /** The StatefulSet's replicas the run needs. */
  podsWanted(ctx: Ctx): number
  /** Turns the live topology, once every pod is Ready, into ctx.layout (and ctx.placement). */
  plan(ctx: Ctx, topology: Topology): void
}

/**
 * Scale the StatefulSet, wait for its pods, plan the layout to join from the live topology, then run the join
 * steps over it. Each step re-checks what is already true, so a re-run resumes.
 */
export function growTasks<Ctx extends GrowContext>(steps: GrowSteps<Ctx>): ListrTask<Ctx>[] {
  return [
    {
      title: 'Scale the StatefulSet',
      task: async (ctx, task) => {
        const wanted = steps.podsWanted(ctx)
        if (ctx.podsBefore === wanted) {
          task.skip(`already ${plural(wanted, 'pod')}`)
          return
        }
        await scaleStatefulSet(ctx.target.kube, ctx.statefulSet, wanted)
        task.title = `Scaled the StatefulSet to ${plural(wanted, 'pod')}`
      },
    },
    {
      title: 'Wait for the new pods to be Ready',
      task: async (ctx, task) => {
        await waitForReadyPods(ctx.target.kube, ctx.target.selector, steps.podsWanted(ctx), ctx.timeoutMs, {onWaiting: progress(task)})
        ctx.cluster = await openCluster(ctx.options, ctx.target)
        steps.plan(ctx, await observeEveryPodLoaded(ctx.cluster, ctx.timeoutMs))
      },
    },
    ...JOIN_STEPS.map((step): ListrTask<Ctx> => ({
      title: step.title,
      task: async (ctx, task) => {
        ctx.actions.push(...await runFormStep(step, task, ctx.cluster!.access.connector, ctx.layout!, {timeoutMs: ctx.timeoutMs}))
      },
    })),
  ]
}

import type {V1StatefulSet} from '@kubernetes/client-node'
import type {ListrTask} from 'listr2'

import {requireSelfManaged} from '../kube/ownership.js'
import {scaleStatefulSet} from '../kube/statefulset.js'
import type {NodeAddress} from '../redis/connection.js'
import {forgetNodes, resetNodes, waitUntilForgotten} from '../redis/remove-nodes.js'
import {podAddress, type Topology} from '../topology/model.js'
import {planNodeRemoval, shrinkAfterRemoval, type NodeRemovalPlan} from '../topology/remove-node-plan.js'
import {openCluster, type OpenCluster} from './inspect.js'
import {runFormStep} from './progress.js'
import {blockingFindings} from './rebalance.js'
import {refuseUnhealthy, requireStatefulSet} from './preconditions.js'
import {REHOME_STEPS, waitForPodCount} from './scale-in.js'
import type {KubeTargetSession, TargetOptions} from './session.js'
import {plural} from '../util/words.js'

export interface RemoveNodeContext {
  options: TargetOptions
  target: KubeTargetSession
  statefulSet: string
  pod: string
  replicaOnly: boolean
  force: boolean
  timeoutMs: number
  sts?: V1StatefulSet
  cluster?: OpenCluster
  topology?: Topology
  plan?: NodeRemovalPlan
  /** The pod no longer exists: removed by an earlier run. */
  gone: boolean
  actions: string[]
  podsAfter?: number
  /** The pods the StatefulSet removes: its highest ordinals, once out of the cluster. */
  removedPods: string[]
  /** Pods left running outside the cluster because the StatefulSet only removes its highest ordinals. */
  outside: string[]
}

const others = (ctx: RemoveNodeContext): NodeAddress[] =>
  ctx.topology!.pods.filter((p) => p.pod !== ctx.pod).map(podAddress)

const goneOrOut = (ctx: RemoveNodeContext): string | false =>
  (ctx.gone ? `${ctx.pod} is gone already` : ctx.plan!.alreadyOut ? `${ctx.pod} is out of the cluster already` : false)
const noOrphans = (ctx: RemoveNodeContext): string | false => goneOrOut(ctx) || (ctx.plan!.rehomed.length === 0 ? 'no replica follows it' : false)

/** Reads the node and the cluster, refuses what is unsafe, and plans; changes nothing. A dry run stops here. */
export async function checkNodeRemoval(ctx: RemoveNodeContext): Promise<void> {
  ctx.sts = await requireStatefulSet(ctx.target.kube, ctx.statefulSet)
  ctx.cluster = await openCluster(ctx.options, ctx.target)
  requireSelfManaged(ctx.sts, ctx.cluster.kubePods)
  ctx.topology = await ctx.cluster.observe()
  ctx.gone = !ctx.cluster.kubePods.some((p) => p.name === ctx.pod) && isBeyondStatefulSet(ctx.pod, ctx.statefulSet, ctx.sts)
  if (ctx.gone) return
  ctx.plan = planNodeRemoval(ctx.topology, ctx.pod, ctx.replicaOnly)
  if (!ctx.plan.alreadyOut) refuseUnhealthy(blockingFindings(ctx.topology), ctx.force)
  // What the last step will find once the node is out: the plan a dry run shows, made again by the run.
  Object.assign(ctx, shrinkAfterRemoval(ctx.topology, ctx.sts.spec?.replicas ?? 0, ctx.pod))
}

export function removeNodeTasks(): ListrTask<RemoveNodeContext>[] {
  return [
    {
      title: 'Check the node and the cluster',
      task: async (ctx, task) => {
        await checkNodeRemoval(ctx)
        if (ctx.gone) task.title = `${ctx.pod} is gone already`
      },
    },
    ...REHOME_STEPS.map((step): ListrTask<RemoveNodeContext> => ({
      title: step.step === 'replicate' ? 'Re-home the replicas that followed it' : step.title,
      skip: noOrphans,
      task: async (ctx, task) => {
        ctx.actions.push(...await runFormStep(step, task, ctx.cluster!.access.connector, ctx.plan!.layout, {timeoutMs: ctx.timeoutMs}))
      },
    })),
    {
      title: 'Forget it on every node and reset it',
      skip: goneOrOut,
      task: async (ctx) => {
        const {connector} = ctx.cluster!.access
        const {node} = ctx.plan!
        ctx.actions.push(...await forgetNodes(connector, others(ctx), [node.id]))
        ctx.actions.push(...await resetNodes(connector, [{id: node.id, address: node.address}]))
        await waitUntilForgotten(connector, others(ctx), [node.id], ctx.timeoutMs)
      },
    },
    {
      title: 'Scale the StatefulSet down over the pods that left the cluster',
      skip: (ctx) => (ctx.gone ? 'nothing left to remove' : false),
      task: async (ctx, task) => {
        const current = ctx.sts!.spec?.replicas ?? 0
        const {podsAfter, removedPods, outside} = shrinkAfterRemoval(await ctx.cluster!.observe(), current, ctx.pod)
        Object.assign(ctx, {podsAfter, removedPods, outside})
        if (podsAfter === current) {
          task.skip(`${ctx.pod} is not among the highest ordinals: it stays running, empty and outside the cluster`)
          return
        }
        await scaleStatefulSet(ctx.target.kube, ctx.statefulSet, podsAfter)
        await waitForPodCount(ctx.target.kube, ctx.target.selector, podsAfter, ctx.timeoutMs)
        task.title = `Scaled the StatefulSet down to ${plural(podsAfter, 'pod')}`
      },
    },
  ]
}

/** A pod name of the StatefulSet whose ordinal is at or above its replicas: scaled away. */
function isBeyondStatefulSet(pod: string, statefulSet: string, sts: V1StatefulSet): boolean {
  const ordinal = pod.startsWith(`${statefulSet}-`) ? Number(pod.slice(statefulSet.length + 1)) : Number.NaN
  return Number.isInteger(ordinal) && ordinal >= (sts.spec?.replicas ?? 0)
}

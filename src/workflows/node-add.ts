import type {ListrTask} from 'listr2'

import {PreconditionError} from '../errors.js'
import {annotateStatefulSet} from '../kube/statefulset.js'
import {joinablePods, planAddMasters, planAddReplicas, type JoinPlan, type JoinRole} from '../topology/join-plan.js'
import type {PodRef, Topology} from '../topology/model.js'
import {growTasks, type GrowContext} from './grow.js'
import {refuseUnhealthy, requireStatefulSet} from './preconditions.js'
import {openCluster} from './inspect.js'
import {blockingFindings} from './rebalance.js'

/**
 * Names the pods an unfinished `node add` / `node add-replica` is joining. Once a pod has met the cluster nothing
 * in Redis tells it from a master added earlier on purpose; this record is how a re-run knows to finish with it
 * rather than add another pod.
 */
export const JOINING_ANNOTATION = 'redisctl.io/joining'

export interface NodeAddInput {
  role: JoinRole
  count: number
  /** add-replica only: the master to follow. */
  master?: string
  force: boolean
}

export interface NodeAddContext extends GrowContext {
  input: NodeAddInput
  /** What the check step decided: the pods to join (existing and to be created) and the StatefulSet's size for them. */
  decided?: NodeAddDecision
  plan?: JoinPlan
}

export interface NodeAddDecision {
  podsBefore: number
  podsWanted: number
  /** Pods already running that this run joins (an interrupted run's first), then the pods the StatefulSet adds. */
  reused: PodRef[]
  created: PodRef[]
  /** The plan as far as it can be known before the new pods are scheduled. */
  plan: JoinPlan
}

/**
 * Reads the StatefulSet and the cluster and decides, changing nothing: pods that exist but are not joined yet
 * count toward the count first, the StatefulSet grows by the rest. A --master that is not a master fails here, and
 * so does an unhealthy cluster (unless --force): the dry run refuses what the run would.
 */
export async function decideNodeAdd(ctx: NodeAddContext): Promise<NodeAddDecision> {
  const sts = await requireStatefulSet(ctx.target.kube, ctx.statefulSet)
  const podsBefore = sts.spec?.replicas ?? 0
  const pending = new Set((sts.metadata?.annotations?.[JOINING_ANNOTATION] ?? '').split(',').filter(Boolean))
  const cluster = await openCluster(ctx.options, ctx.target)
  let topology: Topology
  try {
    topology = await cluster.observe()
  } finally {
    await cluster.access.close()
  }
  const reused = joinablePods(topology, pending, ctx.input.role).slice(0, ctx.input.count)
  const port = topology.pods[0]?.port ?? 6379
  const created = Array.from({length: ctx.input.count - reused.length}, (_, i): PodRef =>
    ({pod: `${ctx.statefulSet}-${podsBefore + i}`, ordinal: podsBefore + i, ip: '', port}))
  const plan = planJoin(ctx.input, {...topology, pods: [...topology.pods, ...created]}, [...reused, ...created])
  refuseUnhealthy(blockingFindings(topology, {joining: new Set(reused.map((p) => p.pod))}), ctx.input.force)
  return {podsBefore, podsWanted: podsBefore + created.length, reused, created, plan}
}

function planJoin(input: NodeAddInput, topology: Topology, joining: PodRef[]): JoinPlan {
  return input.role === 'master' ? planAddMasters(topology, joining) : planAddReplicas(topology, joining, input.master)
}

const joiningNames = (d: NodeAddDecision): string => [...d.reused, ...d.created].map((p) => p.pod).join(',')

export function nodeAddTasks(): ListrTask<NodeAddContext>[] {
  return [
    {
      title: 'Check the cluster before changing it',
      task: async (ctx, task) => {
        const decided = await decideNodeAdd(ctx)
        ctx.decided = decided
        ctx.podsBefore = decided.podsBefore
        if (decided.reused.length > 0) task.title = `Joining pods already running first: ${decided.reused.map((p) => p.pod).join(', ')}`
      },
    },
    {
      title: 'Record the pods being joined on the StatefulSet',
      task: async (ctx) => {
        await annotateStatefulSet(ctx.target.kube, ctx.statefulSet, JOINING_ANNOTATION, joiningNames(ctx.decided!))
      },
    },
    ...growTasks<NodeAddContext>({
      podsWanted: (ctx) => ctx.decided!.podsWanted,
      plan: (ctx, topology) => {
        const chosen = new Set([...ctx.decided!.reused, ...ctx.decided!.created].map((p) => p.pod))
        const joining = joinablePods(topology, chosen, ctx.input.role).filter((p) => chosen.has(p.pod))
        const absent = [...chosen].filter((pod) => !joining.some((p) => p.pod === pod))
        if (absent.length > 0) {
          throw new PreconditionError(`${absent.join(', ')} cannot join: not Ready, not empty, or already given another role meanwhile.`, [
            'redisctl status shows every pod; run the same command again once the pods are Ready.',
          ])
        }
        ctx.plan = planJoin(ctx.input, topology, joining)
        ctx.layout = ctx.plan.layout
      },
    }),
    {
      title: 'Clear the record of the pods being joined',
      task: async (ctx) => {
        await annotateStatefulSet(ctx.target.kube, ctx.statefulSet, JOINING_ANNOTATION, undefined)
      },
    },
  ]
}

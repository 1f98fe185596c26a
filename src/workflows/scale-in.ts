import type {V1StatefulSet} from '@kubernetes/client-node'
import type {ListrTask} from 'listr2'

import {PreconditionError} from '../errors.js'
import type {Kube} from '../kube/context.js'
import {deleteObject} from '../kube/delete.js'
import {requireSelfManaged} from '../kube/ownership.js'
import {listRedisPods} from '../kube/pods.js'
import {scaleStatefulSet} from '../kube/statefulset.js'
import type {NodeAddress} from '../redis/connection.js'
import {executeMoves, type PlanProgress} from '../redis/execute-moves.js'
import {failOver} from '../redis/failover.js'
import {FORM_STEPS} from '../redis/form.js'
import {finishOpenSlots} from '../redis/open-slots.js'
import {forgetNodes, resetNodes, waitUntilForgotten} from '../redis/remove-nodes.js'
import {setReplicaMigration} from '../redis/replica-migration.js'
import {memoryShortfalls} from '../topology/capacity.js'
import {afterClosingOpenSlots, podAddress, type Topology} from '../topology/model.js'
import {planScaleIn, type ScaleInPlan} from '../topology/scale-in-plan.js'
import type {ClusterShape} from '../topology/shape.js'
import {waitUntil} from '../util/wait.js'
import {naturalOrder, plural} from '../util/words.js'
import {JOIN_STEPS} from './grow.js'
import {observeLoaded, openCluster, type OpenCluster} from './inspect.js'
import {refuseUnhealthy, requireStatefulSet} from './preconditions.js'
import {movesProgress, runFormStep} from './progress.js'
import {blockingFindings, countKeysOf, masterRefs} from './rebalance.js'
import type {KubeTargetSession, TargetOptions} from './session.js'

/** The join steps that make the pods that stay follow their planned masters, and the final wait. */
export const REHOME_STEPS = JOIN_STEPS.filter((s) => s.step !== 'ready')
const READY_STEP = FORM_STEPS.find((s) => s.step === 'ready')!

export interface ScaleInContext {
  options: TargetOptions
  target: KubeTargetSession
  statefulSet: string
  shape: ClusterShape
  force: boolean
  deletePvcs: boolean
  timeoutMs: number
  sts?: V1StatefulSet
  cluster?: OpenCluster
  topology?: Topology
  plan?: ScaleInPlan
  /** The plan as first made, for the result: later re-plans see the work done and plan less. */
  firstPlan?: ScaleInPlan
  /** The keys each move of firstPlan carries, counted on the giver. */
  moveKeys?: number[]
  actions: string[]
  /** Slots an interrupted move had left open, closed first. */
  closedSlots: number[]
  progress?: PlanProgress
  pvcs: {kept: string[]; deleted: string[]}
}

/**
 * Reads the StatefulSet, the pods and every node, refuses what is unsafe, and plans. Changes nothing; `scale
 * --dry-run` stops here.
 */
export async function prepareScaleIn(ctx: ScaleInContext): Promise<void> {
  ctx.sts = await requireStatefulSet(ctx.target.kube, ctx.statefulSet)
  // A run that asked for confirmation after planning keeps the connections it planned with.
  ctx.cluster ??= await openCluster(ctx.options, ctx.target)
  requireSelfManaged(ctx.sts, ctx.cluster.kubePods)
  await replan(ctx)
  refuseUnhealthy(blockingFindings(ctx.topology!), ctx.force)
  const short = memoryShortfalls(ctx.topology!, ctx.plan!)
  if (short.length > 0) {
    const mb = (bytes: number): string => `${Math.round(bytes / 1048576)} MB`
    throw new PreconditionError(`The masters that stay cannot hold the data, so nothing was changed: ${short.map((s) => `${s.pod} would hold about ${mb(s.projectedBytes)} with maxmemory ${mb(s.maxMemoryBytes)}`).join('; ')}.`, [
      'Raise maxmemory (or the pods\' memory), delete data, or keep more masters.',
    ])
  }
  ctx.firstPlan = ctx.plan
  ctx.moveKeys = await countKeysOf(ctx.cluster.access.connector, ctx.topology!, ctx.plan!.moves)
}

async function replan(ctx: ScaleInContext): Promise<void> {
  ctx.topology = await observeLoaded(ctx.cluster!, ctx.timeoutMs)
  // Planned as the cluster will be once the slots left open are closed (the first step), as the dry run shows it.
  ctx.plan = planScaleIn(afterClosingOpenSlots(ctx.topology), ctx.shape)
}

const stayingAddresses = (ctx: ScaleInContext): NodeAddress[] =>
  ctx.topology!.pods.filter((p) => p.ordinal < ctx.plan!.podsAfter).map(podAddress)

const podAddresses = (ctx: ScaleInContext): NodeAddress[] => ctx.topology!.pods.map(podAddress)

/** Named predicates for the task list: each says why a step has nothing to do. */
const noOpenSlots = (ctx: ScaleInContext): string | false => (ctx.topology!.openSlots.length === 0 ? 'no slot is open' : false)
const nothingToReshape = (ctx: ScaleInContext): string | false =>
  (ctx.plan!.failovers.length === 0 && ctx.plan!.moves.length === 0 ? 'no master to fail over or drain' : false)
const noFailover = (ctx: ScaleInContext): string | false => (ctx.plan!.failovers.length === 0 ? 'every master that stays is on a pod that stays' : false)
const noMoves = (ctx: ScaleInContext): string | false => (ctx.plan!.moves.length === 0 ? 'no slot to move' : false)
const nothingToForget = (ctx: ScaleInContext): string | false => (ctx.plan!.forget.length === 0 ? 'no node of a removed pod is left' : false)
const statefulSetScaled = (ctx: ScaleInContext): string | false =>
  ((ctx.sts!.spec?.replicas ?? 0) <= ctx.plan!.podsAfter ? `already ${plural(ctx.sts!.spec?.replicas ?? 0, 'pod')}` : false)

export function scaleInTasks(): ListrTask<ScaleInContext>[] {
  return [
    {
      title: 'Check the cluster before changing it',
      task: async (ctx) => {
        await prepareScaleIn(ctx)
      },
    },
    {
      title: 'Finish slots left open by an interrupted move',
      skip: noOpenSlots,
      task: async (ctx) => {
        ctx.closedSlots = await finishOpenSlots(ctx.cluster!.access.connector, masterRefs(ctx.topology!))
        ctx.actions.push(...ctx.closedSlots.map((s) => `finished open slot ${s}`))
        await replan(ctx)
      },
    },
    {
      title: 'Keep replica migration off while masters are drained',
      skip: nothingToReshape,
      task: async (ctx) => {
        await setReplicaMigration(ctx.cluster!.access.connector, podAddresses(ctx), false)
      },
    },
    {
      title: 'Fail over masters on removed pods to their replicas that stay',
      skip: noFailover,
      task: async (ctx, task) => {
        for (const f of ctx.plan!.failovers) {
          task.output = `${f.replica.pod} takes over from ${f.master.pod}`
          ctx.actions.push(...(await failOver(ctx.cluster!.access.connector,
            {id: f.replicaId, address: podAddress(f.replica)},
            {id: f.masterId, address: podAddress(f.master)},
            podAddresses(ctx), ctx.timeoutMs)).actions)
        }
        await replan(ctx)
      },
    },
    {
      title: 'Move the slots off the masters that go',
      skip: noMoves,
      task: async (ctx, task) => {
        const masters = new Map<string, NodeAddress>(masterRefs(ctx.topology!).map((m) => [m.id, m.address]))
        const {connector} = ctx.cluster!.access
        ctx.progress = await executeMoves(connector, ctx.plan!.moves, masters, {
          convergeTimeoutMs: ctx.timeoutMs,
          signal: connector.signal,
          onProgress: movesProgress(task),
        })
        task.title = `Moved ${plural(ctx.progress.slotsDone, 'slot')} and ${plural(ctx.progress.keysMoved, 'key')} (${Math.round(ctx.progress.keysPerSecond)} keys/s)`
        await replan(ctx)
      },
    },
    ...REHOME_STEPS.map((step): ListrTask<ScaleInContext> => ({
      title: step.step === 'replicate' ? 'Re-home replicas onto the masters that stay' : step.title,
      task: async (ctx, task) => {
        ctx.actions.push(...await runFormStep(step, task, ctx.cluster!.access.connector, ctx.plan!.layout, {timeoutMs: ctx.timeoutMs}))
      },
    })),
    {
      title: 'Forget the nodes of the removed pods and reset them',
      skip: nothingToForget,
      task: async (ctx) => {
        const {connector} = ctx.cluster!.access
        const ids = ctx.plan!.forget.map((f) => f.id)
        ctx.actions.push(...await forgetNodes(connector, stayingAddresses(ctx), ids))
        ctx.actions.push(...await resetNodes(connector, ctx.plan!.forget.map((f) => ({id: f.id, address: podAddress(f.pod)}))))
        await waitUntilForgotten(connector, stayingAddresses(ctx), ids, ctx.timeoutMs)
      },
    },
    {
      title: 'Turn replica migration back on',
      task: async (ctx) => {
        await setReplicaMigration(ctx.cluster!.access.connector, stayingAddresses(ctx), true)
      },
    },
    {
      title: 'Scale the StatefulSet down',
      skip: statefulSetScaled,
      task: async (ctx, task) => {
        const {podsAfter} = ctx.plan!
        await scaleStatefulSet(ctx.target.kube, ctx.statefulSet, podsAfter)
        await waitForPodCount(ctx.target.kube, ctx.target.selector, podsAfter, ctx.timeoutMs)
        task.title = `Scaled the StatefulSet down to ${plural(podsAfter, 'pod')}`
      },
    },
    {
      title: 'PersistentVolumeClaims of the removed pods',
      task: async (ctx, task) => {
        const {kept, deleted} = await planPvcs(ctx)
        await Promise.all(deleted.map((name) => deleteObject(ctx.target.kube, 'PersistentVolumeClaim', name)))
        ctx.pvcs = {kept, deleted}
        task.title = kept.length + deleted.length === 0 ? 'No PersistentVolumeClaim of a removed pod is left' : deleted.length > 0
          ? `Deleted ${plural(deleted.length, 'PersistentVolumeClaim')}: ${deleted.join(', ')}`
          : `Kept ${plural(kept.length, 'PersistentVolumeClaim')} (--delete-pvcs deletes them): ${kept.join(', ')}`
      },
    },
    {
      title: READY_STEP.title,
      task: async (ctx) => {
        await READY_STEP.run(ctx.cluster!.access.connector, ctx.plan!.layout, {timeoutMs: ctx.timeoutMs})
      },
    },
  ]
}

export function describePlan(plan: ScaleInPlan): string {
  const parts = [
    plan.removed.length > 0 ? `remove ${plural(plan.removed.length, 'pod')} (${plan.removed.map((p) => p.pod).join(', ')})` : undefined,
    plan.failovers.length > 0 ? `fail over ${plan.failovers.map((f) => `${f.master.pod} to ${f.replica.pod}`).join(', ')}` : undefined,
    plan.drained.length > 0 ? `drain ${plan.drained.map((d) => d.pod.pod).join(', ')}` : undefined,
  ].filter(Boolean)
  return parts.length === 0 ? 'remove nothing' : parts.join('; ')
}

export async function waitForPodCount(kube: Kube, selector: string, count: number, timeoutMs: number): Promise<void> {
  await waitUntil(`the StatefulSet to come down to ${plural(count, 'pod')}`, async () => {
    const pods = await listRedisPods(kube, selector)
    const extra = pods.filter((p) => (p.ordinal ?? 0) >= count).map((p) => p.name)
    return extra.length === 0 ? {done: true, value: undefined} : {done: false, missing: `still present: ${extra.join(', ')}`}
  }, {timeoutMs, intervalMs: 50, signal: kube.signal})
}

/** What becomes of the PersistentVolumeClaims of the removed pods (read only): the run's last step, and its dry run. */
export async function planPvcs(ctx: ScaleInContext): Promise<{kept: string[]; deleted: string[]}> {
  const leftover = await removedPvcs(ctx.target.kube, ctx.sts!, ctx.plan!.podsAfter)
  return ctx.deletePvcs ? {kept: [], deleted: leftover} : {kept: leftover, deleted: []}
}

/** PVCs the StatefulSet made for ordinals at or above `podsAfter`: `<template>-<statefulset>-<ordinal>`. */
async function removedPvcs(kube: Kube, sts: V1StatefulSet, podsAfter: number): Promise<string[]> {
  const templates = (sts.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name).filter((n): n is string => Boolean(n))
  if (templates.length === 0) return []
  const pvcs = await kube.call(`listing PersistentVolumeClaims in namespace ${kube.namespace}`,
    () => kube.core.listNamespacedPersistentVolumeClaim({namespace: kube.namespace}))
  const stsName = sts.metadata?.name ?? ''
  return pvcs.items.map((p) => p.metadata?.name ?? '').filter((name) => templates.some((t) => {
    const prefix = `${t}-${stsName}-`
    const ordinal = name.startsWith(prefix) ? Number(name.slice(prefix.length)) : Number.NaN
    return Number.isInteger(ordinal) && ordinal >= podsAfter
  })).sort(naturalOrder)
}

import type {ListrTask} from 'listr2'

import {deletePod} from '../kube/delete.js'
import {listRedisPods} from '../kube/pods.js'
import type {RedisConnector} from '../redis/connection.js'
import {observeNode} from '../redis/observe.js'
import {startTraffic, type Traffic, type TrafficReport} from '../redis/traffic.js'
import {checkTopology} from '../topology/check.js'
import {type DrillTarget, planDrill} from '../topology/failover-plan.js'
import {podAddress, type PodRef, type Topology} from '../topology/model.js'
import type {NodeAddress} from '../topology/observation.js'
import {rangesToSlots} from '../topology/slots.js'
import {offsetsByAddress, replicaSync} from '../topology/sync.js'
import {waitUntil} from '../util/wait.js'
import {clusterOver, openCluster, type OpenCluster} from './inspect.js'
import {waitForReadyPods} from './pods.js'
import {followPods} from './cluster-client.js'
import type {KubeTargetSession, TargetOptions} from './session.js'
import {agree, sentences} from '../util/words.js'

/** What `drill failover` measured; times in seconds from the moment the pod was deleted. */
export interface DrillReport {
  pod: string
  masterId: string
  /** How the writer (and redisctl) reached the nodes: at their pod IPs, or through port-forwards to their pods. */
  connect: 'direct' | 'port-forward'
  /** The replica that took over the slots; absent when the pod came back and kept them first (within cluster-node-timeout). */
  promoted?: string
  promotionSeconds?: number
  /** When writes to the master's slots succeeded again after the longest gap (0 when the deletion never stopped them). */
  writesResumedSeconds: number
  /** The longest time no write to those slots was acknowledged, over the whole drill. */
  longestWriteGapSeconds: number
  writesAcknowledged: number
  /** Operations that failed as the client saw them, by the error's first word. */
  errors: number
  errorKinds: Record<string, number>
  /** Acknowledged writes that did not read back with their value afterwards. */
  writesLost: number
  /** The first of them, as key: acknowledged value, value read. */
  lost: string[]
  staleReads: number
  /** What the deleted pod's node is once it is back, in the cluster and in sync. */
  returnedAs: 'master' | 'replica'
  /** When every node answered again, agreed, and every replica was in sync. */
  healthySeconds: number
  seconds: number
}

export interface DrillContext {
  options: TargetOptions
  target: KubeTargetSession
  pod?: string
  timeoutMs: number
  cluster?: OpenCluster
  drill?: DrillTarget
  traffic?: Traffic
  deletedAt?: number
  promoted?: {pod: string; at: number}
  /** When the deleted pod was first seen back owning the slots itself. */
  backAt?: number
  healthyAt?: number
  returnedAs?: 'master' | 'replica'
}

/** Keys for the writer, all in the master's slots: CLUSTER KEYSLOT says where each candidate name hashes. */
async function keysInSlots(connector: RedisConnector, address: NodeAddress, target: DrillTarget, count: number): Promise<string[]> {
  const slots = new Set(rangesToSlots(target.master.slots))
  const client = await connector.client(address)
  const keys: string[] = []
  for (let start = 0; keys.length < count && start < 200_000; start += 1000) {
    const names = Array.from({length: 1000}, (_, i) => `redisctl-drill:${start + i}`)
    const pipeline = client.pipeline()
    for (const name of names) pipeline.call('CLUSTER', 'KEYSLOT', name)
    const replies = (await pipeline.exec()) ?? []
    replies.forEach(([error, slot], i) => {
      if (!error && slots.has(Number(slot)) && keys.length < count) keys.push(names[i])
    })
  }
  return keys
}

const seconds = (ms: number): number => Math.round(ms / 100) / 10

/**
 * The failover drill: a bounded writer on the master's slots, the master's pod deleted, then waits until writes
 * succeed again and until the pod is back in the cluster and every replica in sync. The writer stops (and reads
 * every key back) whatever happens, so the report always says what was lost.
 */
export function drillTasks(): ListrTask<DrillContext>[] {
  return [
    {
      title: 'Read every node and choose the master',
      task: async (ctx, task) => {
        ctx.cluster = await openCluster(ctx.options, ctx.target)
        ctx.drill = planDrill(await ctx.cluster.observe(), ctx.pod)
        task.title = `Chose ${ctx.drill.master.name} (${agree(ctx.drill.replicas.length, 'replica', 'replicas')} ${ctx.drill.replicas.join(', ')})`
      },
    },
    {
      title: 'Start a writer on its slots',
      task: async (ctx) => {
        const {master} = ctx.drill!
        const {access, pods} = ctx.cluster!
        const keys = await keysInSlots(access.connector, podAddress(master.pod), ctx.drill!, 200)
        const follow = followPods(access, () => listRedisPods(ctx.target.kube, ctx.target.selector))
        const redisOptions = {username: ctx.target.credentials?.username, password: ctx.target.credentials?.password}
        ctx.traffic = startTraffic(pods.map(podAddress).map(follow.seed), {keyNames: keys, removeKeys: true, connection: {...follow.connection, redisOptions},
          maxMs: ctx.timeoutMs, maxOps: Math.ceil((ctx.timeoutMs / 1000) * 400)})
        await waitUntil('the writer\'s first writes', async () => (ctx.traffic!.writesAcknowledged() >= 50
          ? {done: true, value: undefined} : {done: false, missing: `${ctx.traffic!.writesAcknowledged()} of 50 writes acknowledged`}), {timeoutMs: 30_000, intervalMs: 50, signal: ctx.cluster!.access.connector.signal})
      },
    },
    {
      title: 'Delete the master\'s pod and wait until writes to its slots succeed again',
      task: async (ctx, task) => {
        const {master} = ctx.drill!
        ctx.deletedAt = Date.now()
        await deletePod(ctx.target.kube, master.name)
        task.title = `Deleted ${master.name}; waiting until writes to its slots succeed again`
        const replicas = ctx.cluster!.pods.filter((p) => ctx.drill!.replicas.includes(p.pod))
        await waitUntil(`writes to ${master.name}'s slots to succeed again`, async () => {
          ctx.promoted ??= await promotedReplica(ctx.cluster!.access.connector, replicas)
          if (!ctx.promoted) ctx.backAt ??= await backAsMaster(ctx)
          const owner = ctx.promoted?.at ?? ctx.backAt
          const lastAck = ctx.traffic!.lastAcknowledgedAt() ?? 0
          const lastFailure = ctx.traffic!.lastFailedAt() ?? 0
          return owner !== undefined && lastAck > owner && lastAck > lastFailure
            ? {done: true, value: undefined}
            : {done: false, missing: owner === undefined ? 'no node owns the slots yet' : 'no write acknowledged since'}
        }, {timeoutMs: ctx.timeoutMs, signal: ctx.target.kube.signal, intervalMs: 50})
      },
    },
    {
      title: 'Wait until the pod is back in the cluster and every replica in sync',
      task: async (ctx, task) => {
        const {master} = ctx.drill!
        const pods = await waitForReadyPods(ctx.target.kube, ctx.target.selector, ctx.cluster!.pods.length, ctx.timeoutMs)
        // The same access, which the writer goes on using (its port-forwards), taught where the pod is now.
        await ctx.cluster!.access.learn(pods)
        ctx.cluster = clusterOver(ctx.target, ctx.cluster!.access, pods)
        let earlier = new Map<string, number>()
        const topology = await waitUntil('every node to agree and every replica to be in sync', async () => {
          const seen = await ctx.cluster!.observe()
          const missing = unhealthy(seen, master.id, earlier)
          earlier = offsetsByAddress(seen.nodes)
          return missing ? {done: false, missing} : {done: true, value: seen}
        }, {timeoutMs: ctx.timeoutMs, signal: ctx.target.kube.signal, intervalMs: 100})
        ctx.healthyAt = Date.now()
        ctx.returnedAs = topology.nodes.find((n) => n.id === master.id)!.role!
        task.title = `${master.name} is back as a ${ctx.returnedAs}; every replica in sync`
      },
    },
  ]
}

/** A replica of the drilled master that owns slots now, as its own view says. */
async function promotedReplica(connector: RedisConnector, replicas: readonly PodRef[]): Promise<{pod: string; at: number} | undefined> {
  const seen = await Promise.all(replicas.map(async (r) => ({pod: r.pod, node: await observeNode(connector, podAddress(r))})))
  const promoted = seen.find(({node}) => node.ok && node.view.myself.role === 'master' && node.view.myself.slots.length > 0)
  return promoted && {pod: promoted.pod, at: Date.now()}
}

/** When the deleted pod is back at a new IP with its node id and still owns its slots (it came back within cluster-node-timeout). */
async function backAsMaster(ctx: DrillContext): Promise<number | undefined> {
  const {master} = ctx.drill!
  const pods = await listRedisPods(ctx.target.kube, ctx.target.selector)
  const pod = pods.find((p) => p.name === master.name)
  if (!pod?.ip || pod.terminating || pod.ip === master.pod.ip) return undefined
  // The connector reaches a pod (its port-forward) and verifies a TLS node (its pod's DNS name) by the pod's IP: the new one from this listing.
  await ctx.cluster!.access.learn(pods)
  const node = await observeNode(ctx.cluster!.access.connector, {host: pod.ip, port: pod.port})
  return node.ok && node.view.id === master.id && node.view.myself.role === 'master' && node.view.myself.slots.length > 0 ? Date.now() : undefined
}

/** What still keeps the cluster from being as healthy as before the drill; undefined when nothing does. */
/** `earlier`: the masters' offsets at the previous look; the writer is still running, so replicas trail by a few writes. */
function unhealthy(topology: Topology, masterId: string, earlier: ReadonlyMap<string, number>): string | undefined {
  const findings = checkTopology(topology).filter((f) => f.severity === 'error' || f.code === 'replica-syncing' || f.code === 'replica-link-down')
  if (findings.length > 0) return sentences(findings.map((f) => f.message))
  const returned = topology.nodes.find((n) => n.id === masterId)
  if (!returned?.reachable || !returned.inCluster) return 'the deleted pod\'s node is not back in the cluster'
  const lagging = topology.nodes.filter((n) => n.role === 'replica' && replicaSync(n, topology.nodes, earlier)?.state !== 'in-sync')
  return lagging.length > 0 ? `${lagging.map((n) => n.pod?.pod).join(', ')} not yet in sync` : undefined
}

/** The report from what the tasks recorded and what the writer saw. */
export function drillReport(ctx: DrillContext, traffic: TrafficReport, startedAt: number): DrillReport {
  const deletedAt = ctx.deletedAt!
  const gap = traffic.longestWriteGap
  return {
    pod: ctx.drill!.master.name,
    masterId: ctx.drill!.master.id,
    connect: ctx.cluster!.access.mode,
    ...(ctx.promoted ? {promoted: ctx.promoted.pod, promotionSeconds: seconds(ctx.promoted.at - deletedAt)} : {}),
    writesResumedSeconds: gap.to > deletedAt ? seconds(gap.to - deletedAt) : 0,
    longestWriteGapSeconds: seconds(gap.ms),
    writesAcknowledged: traffic.writesAcknowledged,
    errors: traffic.errors,
    errorKinds: traffic.errorKinds,
    writesLost: traffic.lost.length,
    lost: traffic.lost.slice(0, 20),
    staleReads: traffic.staleReads,
    returnedAs: ctx.returnedAs!,
    healthySeconds: seconds(ctx.healthyAt! - deletedAt),
    seconds: seconds(Date.now() - startedAt),
  }
}

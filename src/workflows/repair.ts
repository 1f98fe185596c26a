import type {ListrTask} from 'listr2'

import {pipelinedOk} from '../redis/commands.js'
import {parseClusterNodes} from '../redis/cluster-nodes.js'
import {FORM_STEPS, waitUntilAcquainted} from '../redis/form.js'
import {finishOpenSlots, OpenSlotRefusedError} from '../redis/open-slots.js'
import {forgetNodes, waitUntilForgotten} from '../redis/remove-nodes.js'
import {setReplicaMigration} from '../redis/replica-migration.js'
import {checkTopology, type Finding} from '../topology/check.js'
import {type ClusterLayout, podName, type Topology, type TopologyNode} from '../topology/model.js'
import {addressKey, type NodeAddress, observationError} from '../topology/observation.js'
import {type ActionOf, type KeyHolders, planCoverage, planForgets, planOpenSlots, planReintroductions, planRepair, planReplicaMigration, planReplicas,
  type Refusal, type RepairAction, type RepairPlan, silentPodRefusals, silentPods} from '../topology/repair-plan.js'
import {formatRanges, rangesToSlots, slotsToRanges} from '../topology/slots.js'
import {waitUntil} from '../util/wait.js'
import {observeLoaded, type OpenCluster} from './inspect.js'
import {progress} from './progress.js'
import {masterRefs} from './rebalance.js'
import {plural, sentences} from '../util/words.js'

/** What repair needs of a cluster: its pods, admin connections to them, and a fresh read of every node. */
export type RepairCluster = Pick<OpenCluster, 'pods' | 'access' | 'observe'>

export interface RepairContext {
  cluster: RepairCluster
  timeoutMs: number
  /** The latest observation. */
  topology?: Topology
  /** What check found before anything was done. */
  before: Finding[]
  /** The plan made from the first observation: what the dry run shows. */
  plan?: RepairPlan
  /** Nothing needed repair: every later step is skipped. */
  healthy: boolean
  done: RepairAction[]
  refusals: Refusal[]
}

export const newRepairContext = (cluster: RepairCluster, timeoutMs: number): RepairContext =>
  ({cluster, timeoutMs, before: [], healthy: false, done: [], refusals: []})

/** The part of a listr2 task the phases use. */
interface Task {
  title: string
  output: string | undefined
  skip(message?: string): void
}

const errors = (findings: Finding[]): Finding[] => findings.filter((f) => f.severity === 'error')

/** Reads every node and plans the whole repair from what it sees; changes nothing (this is the dry run). */
export async function observeAndPlan(ctx: RepairContext, onWaiting?: (missing: string) => void): Promise<void> {
  ctx.topology = await observeLoaded(ctx.cluster, ctx.timeoutMs, onWaiting)
  // A wrong password or a server without cluster support is not damage repair could mend.
  const refused = ctx.topology.nodes.find((n) => n.error && n.error.kind !== 'unreachable')
  if (refused) throw observationError({address: refused.address, ok: false, error: refused.error!})
  ctx.before = checkTopology(ctx.topology)
  ctx.plan = planRepair(ctx.topology, await keyHoldersOfUncovered(ctx))
  ctx.healthy = errors(ctx.before).length === 0 && ctx.plan.actions.length === 0 && ctx.plan.refusals.length === 0
}

/**
 * A plan with refusals and no action at all leaves the phases nothing to do: they are skipped and the refusals
 * stand, at once, as the dry run showed them (each phase would read every node again, a --timeout each while a pod
 * is hung, to find the same).
 */
const onlyRefused = (ctx: RepairContext): boolean => ctx.plan!.actions.length === 0 && ctx.plan!.refusals.length > 0

const skipWhenHealthy = (ctx: RepairContext): string | false =>
  ctx.healthy ? 'nothing needs repair' : onlyRefused(ctx) ? 'nothing repair could do (below)' : false

/**
 * The repair procedure: observe, then one phase per kind of damage, each observing again, skipping when there
 * is nothing to do, acting and verifying; then wait until check finds no errors. What a phase refuses is kept
 * and reported at the end, and the phases that do not depend on it still run.
 */
export function repairTasks(): ListrTask<RepairContext>[] {
  return [
    {
      title: 'Read every node and plan the repair',
      task: async (ctx, task) => {
        await observeAndPlan(ctx, progress(task))
        if (onlyRefused(ctx)) refuse(ctx, ctx.plan!.refusals)
        task.title = ctx.healthy ? 'Nothing needs repair' : `Found ${errors(ctx.before).length} error(s); planned ${ctx.plan!.actions.length} action(s)`
      },
    },
    {title: 'Introduce nodes to pods at their current addresses', skip: skipWhenHealthy, task: reintroduce},
    {title: 'Forget cluster nodes that no pod answers for', skip: skipWhenHealthy, task: forget},
    {title: 'Close slots left open by an interrupted migration', skip: skipWhenHealthy, task: closeOpenSlots},
    {title: 'Give uncovered slots an owner', skip: skipWhenHealthy, task: coverSlots},
    {title: 'Give masters without a replica one', skip: skipWhenHealthy, task: addReplicas},
    {title: 'Turn replica migration back on', skip: skipWhenHealthy, task: allowReplicaMigration},
    {
      title: 'Wait until check finds no errors',
      skip: (ctx) => skipWhenHealthy(ctx) || (ctx.refusals.length > 0 ? 'some damage needs a person (below)' : false),
      task: async (ctx, task) => {
        const silence = new SilenceClock()
        ctx.topology = await waitUntil('check to find no errors', async () => {
          const topology = await ctx.cluster.observe()
          if (silence.longestMs(topology) >= SILENT_GRACE_MS) return {done: true, value: topology}
          const left = errors(checkTopology(topology))
          return left.length === 0 ? {done: true, value: topology} : {done: false, missing: sentences(left.map((f) => f.message))}
        }, {timeoutMs: ctx.timeoutMs, signal: ctx.cluster.access.connector.signal, intervalMs: 100, onWaiting: progress(task)})
        refuse(ctx, silentPodRefusals(ctx.topology))
        if (ctx.refusals.length > 0) task.title = 'Stopped waiting: a pod does not answer (below)'
      },
    },
  ]
}

/**
 * A pod may miss an answer for a moment (forking for a replica's full sync, a busy machine); one that stays silent
 * this long is a stopped or hung server that repair cannot mend, refused rather than waited on for all of --timeout.
 */
const SILENT_GRACE_MS = 15_000

/** How long each silent pod has gone without answering, over successive observations. */
class SilenceClock {
  private readonly since = new Map<string, number>()

  longestMs(topology: Topology): number {
    const now = Date.now()
    const silent = new Set(silentPods(topology).map(podName))
    for (const pod of this.since.keys()) if (!silent.has(pod)) this.since.delete(pod)
    for (const pod of silent) if (!this.since.has(pod)) this.since.set(pod, now)
    return Math.max(0, ...[...this.since.values()].map((at) => now - at))
  }
}

async function fresh(ctx: RepairContext): Promise<Topology> {
  ctx.topology = await ctx.cluster.observe()
  return ctx.topology
}

function refuse(ctx: RepairContext, refusals: Refusal[]): void {
  for (const r of refusals) if (!ctx.refusals.some((known) => known.problem === r.problem)) ctx.refusals.push(r)
}

async function send(ctx: RepairContext, address: NodeAddress, commands: (string | number)[][], what: string): Promise<unknown[]> {
  return pipelinedOk(await ctx.cluster.access.connector.client(address), address, commands, what)
}

/**
 * Meets each node again at its pod's current address (pods that came back with new IPs keep the old ones in
 * nodes.conf) and introduces empty pods outside the cluster; waits until every node knows every pod there.
 * Also what `cluster create` runs when the pods came back on kept volumes after a teardown.
 */
export async function reintroduce(ctx: RepairContext, task: Task): Promise<void> {
  const meets = planReintroductions(await fresh(ctx)).actions as ActionOf<'meet'>[]
  if (meets.length === 0) return task.skip('every node reaches every pod')
  const byNode = Map.groupBy(meets, (meet) => addressKey(meet.address))
  await Promise.all([...byNode.values()].map((group) => send(ctx, group[0].address,
    group.map((m) => ['CLUSTER', 'MEET', m.peerAddress.host, m.peerAddress.port]), 'CLUSTER MEET')))
  ctx.done.push(...meets)
  const joining = new Set(meets.filter((m) => m.reason === 'not-in-cluster').map((m) => m.peer))
  await waitUntil('every node to know every pod at its current address', async () => {
    const topology = await fresh(ctx)
    const stale = new Set(topology.staleAddresses.map((s) => s.id))
    const outside = topology.nodes.filter((n) => n.pod && joining.has(n.pod.pod) && !n.inCluster)
    const missing = [
      ...(stale.size > 0 ? [`${plural(stale.size, 'node')} still known at old addresses`] : []),
      ...(outside.length > 0 ? [`${outside.map(podName).join(', ')} not yet in the cluster`] : []),
    ]
    return missing.length === 0 ? {done: true, value: undefined} : {done: false, missing: missing.join('; ')}
  }, {timeoutMs: ctx.timeoutMs, signal: ctx.cluster.access.connector.signal, onWaiting: progress(task)})
  // A node introduced by one MEET learns the others by gossip, a few seconds later; later phases tell it to
  // follow a master or forget a node, which it must know by then.
  if (joining.size > 0) {
    const members = ctx.topology!.nodes.filter((n) => n.pod && n.reachable && n.inCluster).map((n) => n.pod!)
    await waitUntilAcquainted(ctx.cluster.access.connector, members, {timeoutMs: ctx.timeoutMs, onWaiting: progress(task)})
  }
  task.title = `Introduced nodes to pods at their current addresses (${meets.length} CLUSTER MEET)`
}

async function forget(ctx: RepairContext, task: Task): Promise<void> {
  let plan = planForgets(await fresh(ctx))
  const awaited = plan.actions.filter((a): a is ActionOf<'await-failover'> => a.kind === 'await-failover')
  if (awaited.length > 0) {
    const ids = new Set(awaited.map((a) => a.id))
    task.output = `waiting for ${awaited.flatMap((a) => a.replicas).join(', ')} to take over from nodes whose pod is gone`
    await waitUntil('replicas to take over the slots of nodes whose pod is gone', async () => {
      const owning = (await fresh(ctx)).nodes.filter((n) => n.id && ids.has(n.id) && n.slotCount > 0)
      return owning.length === 0 ? {done: true, value: undefined} : {done: false, missing: `${owning.map(podName).join(', ')} still own slots`}
    }, {timeoutMs: ctx.timeoutMs, signal: ctx.cluster.access.connector.signal, intervalMs: 100})
    plan = planForgets(ctx.topology!)
  }
  refuse(ctx, plan.refusals)
  const forgets = plan.actions.filter((a): a is ActionOf<'forget'> => a.kind === 'forget')
  if (forgets.length === 0) return task.skip(plan.refusals.length > 0 ? 'refused (below)' : 'every cluster node has a pod')
  await forgetEverywhere(ctx, forgets.map((f) => f.id))
  // A node whose replica took over is forgotten as the planned wait-then-forget, whether this phase waited for the
  // takeover or found it already done.
  ctx.done.push(...forgets.map((f) => awaited.find((a) => a.id === f.id) ?? plannedTakeover(ctx, f.id) ?? f))
  task.title = `Forgot ${plural(forgets.length, 'node')} that no pod answers for`
}

const plannedTakeover = (ctx: RepairContext, id: string): ActionOf<'await-failover'> | undefined =>
  ctx.plan?.actions.find((a): a is ActionOf<'await-failover'> => a.kind === 'await-failover' && a.id === id)

/** Every node that answers forgets the ids at once and is waited for (forgetNodes says why at once). */
async function forgetEverywhere(ctx: RepairContext, ids: string[]): Promise<void> {
  const {connector} = ctx.cluster.access
  const addresses = ctx.topology!.nodes.filter((n) => n.pod && n.reachable).map((n) => n.address)
  await forgetNodes(connector, addresses, ids)
  await waitUntilForgotten(connector, addresses, ids, ctx.timeoutMs)
}

async function closeOpenSlots(ctx: RepairContext, task: Task): Promise<void> {
  const plan = planOpenSlots(await fresh(ctx))
  refuse(ctx, plan.refusals)
  const action = plan.actions[0] as ActionOf<'close-open-slots'> | undefined
  if (!action) return task.skip(plan.refusals.length > 0 ? 'refused (below)' : 'no slot is open')
  // A node that just restarted refuses to import (CLUSTERDOWN) until it counts itself in the majority again,
  // for up to min(cluster-node-timeout, 5 s): that is waited out, and each attempt resumes where the last stopped.
  const closed = await waitUntil('the open slots to close', async () => {
    try {
      await finishOpenSlots(ctx.cluster.access.connector, masterRefs(await fresh(ctx)))
      return {done: true, value: true}
    } catch (error) {
      if (error instanceof OpenSlotRefusedError) {
        refuse(ctx, [{problem: error.message, todo: sentences(error.suggestions)}])
        return {done: true, value: false}
      }
      if (error instanceof Error && /CLUSTERDOWN/.test(error.message)) return {done: false, missing: error.message}
      throw error
    }
  }, {timeoutMs: ctx.timeoutMs, signal: ctx.cluster.access.connector.signal, intervalMs: 200, onWaiting: progress(task)})
  if (!closed) return task.skip('refused (below)')
  ctx.done.push(action)
  task.title = `Closed ${action.slots.length} open slots`
}

/** For each slot no node claims, the masters that hold keys of it (CLUSTER COUNTKEYSINSLOT on every master). */
async function keyHoldersOfUncovered(ctx: RepairContext): Promise<KeyHolders> {
  const slots = rangesToSlots(ctx.topology!.uncovered)
  const holders = new Map<number, string[]>()
  if (slots.length === 0) return holders
  await Promise.all(masterRefs(ctx.topology!).map(async (m) => {
    const counts = await send(ctx, m.address, slots.map((s) => ['CLUSTER', 'COUNTKEYSINSLOT', s]), 'CLUSTER COUNTKEYSINSLOT')
    counts.forEach((count, i) => {
      if (Number(count) > 0) holders.set(slots[i], [...(holders.get(slots[i]) ?? []), m.id])
    })
  }))
  return holders
}

async function coverSlots(ctx: RepairContext, task: Task): Promise<void> {
  await fresh(ctx)
  const plan = planCoverage(ctx.topology!, await keyHoldersOfUncovered(ctx))
  refuse(ctx, plan.refusals)
  const assigns = plan.actions as ActionOf<'assign-slots'>[]
  if (assigns.length === 0) return task.skip(plan.refusals.length > 0 ? 'refused (below)' : 'every slot has an owner')
  const byMaster = Map.groupBy(assigns, (a) => a.id)
  const nodes = ctx.topology!.nodes
  const others = (id: string): TopologyNode[] => nodes.filter((n) => n.pod && n.reachable && n.id !== id)
  await Promise.all([...byMaster].map(async ([id, actions]) => {
    const master = nodes.find((n) => n.id === id)!
    const slots = actions.flatMap((a) => rangesToSlots(a.slots))
    // The master may still think another node owns some of them (that node dropped them only in its own view);
    // ADDSLOTS refuses a slot it sees as busy, so those are dropped from its view first, as redis-cli fix does.
    const view = parseClusterNodes(String((await send(ctx, master.address, [['CLUSTER', 'NODES']], 'CLUSTER NODES'))[0]))
    const elsewhere = new Set(view.flatMap((line) => (line.myself ? [] : rangesToSlots(line.slots))))
    const busy = slotsToRanges(slots.filter((s) => elsewhere.has(s)))
    // A bumped epoch makes this master's claim win over what other nodes still remember, as redis-cli fix does;
    // a MEET carries the new slots to every node at once instead of with the next ping.
    await send(ctx, master.address, [
      ...(busy.length > 0 ? [['CLUSTER', 'DELSLOTSRANGE', ...busy.flatMap((r) => [r.start, r.end])]] : []),
      ['CLUSTER', 'ADDSLOTSRANGE', ...slotsToRanges(slots).flatMap((r) => [r.start, r.end])],
      ['CLUSTER', 'BUMPEPOCH'],
      ...others(id).map((n) => ['CLUSTER', 'MEET', n.address.host, n.address.port]),
    ], 'CLUSTER ADDSLOTSRANGE')
  }))
  ctx.done.push(...assigns)
  await waitUntil('every node to see an owner for every slot', async () => {
    const topology = await fresh(ctx)
    if (topology.uncovered.length > 0) return {done: false, missing: `slots ${formatRanges(topology.uncovered)} have no owner`}
    return topology.agreed ? {done: true, value: undefined} : {done: false, missing: 'the nodes do not agree on the slot map yet'}
  }, {timeoutMs: ctx.timeoutMs, signal: ctx.cluster.access.connector.signal, onWaiting: progress(task)})
  task.title = `Gave ${assigns.reduce((n, a) => n + a.slots.reduce((m, r) => m + r.end - r.start + 1, 0), 0)} uncovered slots an owner`
}

async function addReplicas(ctx: RepairContext, task: Task): Promise<void> {
  const topology = await fresh(ctx)
  const replicates = planReplicas(topology).actions as ActionOf<'replicate'>[]
  if (replicates.length === 0) return task.skip('every master has a replica, or no pod is free to become one')
  // The forming steps attach replicas and wait until every node sees them, over the whole layout as it will be.
  const moved = new Map(replicates.map((r) => [r.id, r.masterId]))
  const live = topology.nodes.filter((n) => n.pod && n.reachable && n.id)
  const layout: ClusterLayout = {
    shards: live.filter((m) => m.role === 'master' && m.slotCount > 0).map((m) => ({
      master: m.pod!,
      slots: m.slots,
      replicas: live.filter((r) => (moved.get(r.id!) ?? (r.role === 'replica' ? r.masterId : undefined)) === m.id).map((r) => r.pod!),
    })),
  }
  // Converge first: CLUSTER REPLICATE needs the replica to know its master, which a node introduced in this run
  // (a pod that came back without its data) may learn only by gossip.
  for (const step of FORM_STEPS.filter((s) => s.step === 'converge' || s.step === 'replicate' || s.step === 'attach')) {
    await step.run(ctx.cluster.access.connector, layout, {timeoutMs: ctx.timeoutMs, onProgress: (p) => progress(task)(p.message)})
  }
  ctx.done.push(...replicates)
  task.title = `Gave ${plural(replicates.length, 'master')} a replica`
}

async function allowReplicaMigration(ctx: RepairContext, task: Task): Promise<void> {
  const [action] = planReplicaMigration(await fresh(ctx)).actions as ActionOf<'allow-replica-migration'>[]
  if (!action) return task.skip('replica migration is on everywhere')
  await setReplicaMigration(ctx.cluster.access.connector, action.addresses, true)
  ctx.done.push(action)
  task.title = `Turned replica migration back on for ${plural(action.pods.length, 'node')}`
}

/** Refusals become one readable paragraph each: the problem, then what to do. */
export const describeRefusal = (r: Refusal): string => `${r.problem} What to do: ${r.todo}`

import {NotFoundError, PreconditionError, UsageError} from '../errors.js'
import {checkTopology} from './check.js'
import {podName, type PodRef, type Topology, type TopologyNode} from './model.js'
import type {NodeAddress} from './observation.js'
import type {SlotRange} from './slots.js'
import {syncProblem} from './sync.js'
import {sentences} from '../util/words.js'

/**
 * planned: CLUSTER FAILOVER, the master stops its clients until the replica has its offset (no acknowledged write lost);
 * force: CLUSTER FAILOVER FORCE, without the master (a majority of masters still votes);
 * takeover: CLUSTER FAILOVER TAKEOVER, without the master and without a vote (the replica bumps the epoch itself).
 */
export type FailoverMode = 'planned' | 'force' | 'takeover'

/** One shard's master handed to one of its replicas. The master is named by its pod, or by its id once its pod is gone. */
export interface FailoverStep {
  mode: FailoverMode
  master: {name: string; id: string; address: NodeAddress; pod?: PodRef}
  replica: {name: string; id: string; pod: PodRef}
}

export interface FailoverRequest {
  /** The master's pod. */
  pod: string
  /** The replica to promote (its pod); the best one when absent. */
  to?: string
  mode: FailoverMode
}

type PodNode = TopologyNode & {pod: PodRef; id: string}

const isPodNode = (n: TopologyNode): n is PodNode => Boolean(n.pod && n.id)

const replicasOf = (topology: Topology, masterId: string): TopologyNode[] =>
  topology.nodes.filter((n) => n.role === 'replica' && n.masterId === masterId)

/** Why a replica cannot take over in a planned failover; undefined when it can (it answers and is in sync). */
export function notReady(replica: TopologyNode, master: TopologyNode): string | undefined {
  if (!replica.pod) return `${podName(replica)} has no pod`
  if (!replica.reachable) return `${podName(replica)} did not answer`
  if (!replica.sync) return `${podName(replica)} reported no replication link`
  const problem = syncProblem(replica.sync, podName(master))
  return problem && `${podName(replica)} ${problem}`
}

/**
 * The replica a planned failover should promote: of those in sync, one whose Kubernetes node is not `avoid` (a node
 * about to be drained) and holds the fewest masters (after the failovers planned so far, `mastersOn`), then the
 * lowest ordinal. Undefined when none is in sync off `avoid`.
 */
export function bestInSyncReplica(replicas: readonly TopologyNode[], master: TopologyNode, mastersOn: (k8sNode: string | undefined) => number, avoid?: string): PodNode | undefined {
  return replicas.filter(isPodNode)
    .filter((r) => notReady(r, master) === undefined && (avoid === undefined || r.pod.k8sNode !== avoid))
    .sort((a, b) => mastersOn(a.pod.k8sNode) - mastersOn(b.pod.k8sNode) || a.pod.ordinal - b.pod.ordinal)[0]
}

/** How many masters owning slots each Kubernetes node holds. */
function masterCounter(topology: Topology): {count: (k8sNode: string | undefined) => number; move: (from?: string, to?: string) => void} {
  const counts = new Map<string, number>()
  const move = (from?: string, to?: string): void => {
    if (from) counts.set(from, (counts.get(from) ?? 0) - 1)
    if (to) counts.set(to, (counts.get(to) ?? 0) + 1)
  }
  for (const n of topology.nodes) if (n.role === 'master' && n.slotCount > 0) move(undefined, n.pod?.k8sNode)
  return {count: (k8sNode) => (k8sNode ? counts.get(k8sNode) ?? 0 : 0), move}
}

const FORCE_HINT = 'For a master that is gone (its pod will not come back), --force (CLUSTER FAILOVER FORCE, needs a majority of masters) or --takeover (no vote) promote a replica without it; writes it had not yet replicated are lost.'

/**
 * `redisctl failover POD`: which replica takes over from the master on POD, and how. Refuses (nothing changed) a
 * planned failover when the master does not answer or no replica is in sync, naming each replica and why; refuses
 * --force and --takeover while the master answers (a planned failover loses nothing then).
 */
export function planFailover(topology: Topology, request: FailoverRequest): FailoverStep {
  const byPod = (name: string): TopologyNode | undefined => topology.nodes.find((n) => n.pod?.pod === name)
  const named = byPod(request.pod)
  const to = request.to === undefined ? undefined : byPod(request.to)
  if (request.to !== undefined && !to) throw new NotFoundError(`--to ${request.to}: no pod of the cluster has that name.`, ['redisctl status lists the pods and their roles.'])
  // A master whose pod is gone is known only to the others: its replica named with --to says which one it is.
  const master = named?.role === 'master' ? named
    : !named && to?.masterId && request.mode !== 'planned' ? topology.nodes.find((n) => n.id === to.masterId) : named
  if (!master) {
    throw new NotFoundError(`${request.pod}: no pod of the cluster has that name.`,
      [`redisctl status lists the pods and their roles.${request.mode === 'planned' ? '' : ' For a master whose pod is gone, name its replica with --to.'}`])
  }
  const masterName = master === named ? request.pod : podName(master)
  // Run again after the failover went through (or was killed once it had): the step only waits for every node to agree.
  if (named?.role === 'replica' && named.id && to && isPodNode(to) && named.masterId === to.id) {
    return {mode: request.mode, master: {name: request.pod, id: named.id, address: named.address, ...(named.pod ? {pod: named.pod} : {})},
      replica: {name: to.pod.pod, id: to.id, pod: to.pod}}
  }
  if (master.role !== 'master' || !master.id) {
    const of = master.masterId ? topology.nodes.find((n) => n.id === master.masterId) : undefined
    throw new UsageError(`${masterName} is not a master${of ? `: it replicates ${podName(of)}` : ''}; failover names the master to hand over.`,
      of ? [`redisctl failover ${podName(of)} --to ${masterName} promotes it.`] : ['redisctl status lists the masters.'])
  }
  if (master.slotCount === 0) throw new PreconditionError(`${masterName} owns no slots: there is nothing to fail over.`)
  const replicas = replicasOf(topology, master.id)
  if (to && !replicas.includes(to)) {
    throw new UsageError(`--to ${request.to} is not a replica of ${masterName}.`,
      [replicas.length > 0 ? `Its replicas: ${replicas.map(podName).join(', ')}.` : `${masterName} has no replica.`])
  }
  const step = (replica: PodNode): FailoverStep => ({
    mode: request.mode,
    master: {name: masterName, id: master.id!, address: master.address, ...(master.pod ? {pod: master.pod} : {})},
    replica: {name: replica.pod.pod, id: replica.id, pod: replica.pod},
  })
  if (request.mode === 'planned') {
    if (!master.reachable) {
      throw new PreconditionError(`${masterName} did not answer: a planned failover needs the master to hand over its last writes.`,
        ['Wait until its pod runs again (redisctl status), then run the same command again.', FORCE_HINT])
    }
    if (to) {
      const why = notReady(to, master)
      if (why) throw new PreconditionError(`Refusing to fail ${masterName} over to ${request.to}: ${why}, so it would not hold every acknowledged write.`, waitHint)
      return step(to as PodNode)
    }
    const best = bestInSyncReplica(replicas, master, masterCounter(topology).count)
    if (!best) throw noReplicaInSync(masterName, master, replicas)
    return step(best)
  }
  if (master.reachable && master.link !== 'disconnected' && !master.flags.some((f) => f === 'fail' || f === 'fail?')) {
    throw new UsageError(`${masterName} answers: --${request.mode} is for a master that is gone, and would drop the writes it has not yet replicated.`,
      [`redisctl failover ${masterName} hands it over without losing a write.`])
  }
  const candidates = (to ? [to] : replicas).filter((r): r is PodNode => isPodNode(r) && r.reachable)
  // Without the master, the replica that had replicated the most of its stream loses the least.
  const chosen = candidates.sort((a, b) => (b.replication?.master?.offset ?? 0) - (a.replication?.master?.offset ?? 0) || a.pod.ordinal - b.pod.ordinal)[0]
  if (!chosen) {
    throw new PreconditionError(`No replica of ${masterName} answers${replicas.length > 0 ? ` (${replicas.map(podName).join(', ')})` : ''}: there is nobody to promote.`,
      ['redisctl repair gives a master without a replica one once its slots have an owner again; a master whose data is gone is in docs/failure-handling.md.'])
  }
  return step(chosen)
}

/**
 * The masters a failover would put beside the promoted replica on its Kubernetes node: losing that node would then
 * take them all at once (and with them the votes that elect their replicas). Undefined when it holds no other
 * master; otherwise the warning, naming a replica of the master on a node without one when there is such a replica.
 */
export function crowdingWarning(topology: Topology, step: FailoverStep): string | undefined {
  const mastersOn = (k8sNode: string): TopologyNode[] =>
    topology.nodes.filter((n) => n.role === 'master' && n.slotCount > 0 && n.id !== step.master.id && n.pod?.k8sNode === k8sNode)
  const k8sNode = step.replica.pod.k8sNode
  const there = k8sNode ? mastersOn(k8sNode) : []
  if (there.length === 0) return undefined
  const better = replicasOf(topology, step.master.id).filter(isPodNode)
    .find((r) => r.id !== step.replica.id && r.pod.k8sNode !== undefined && mastersOn(r.pod.k8sNode).length === 0)
  return `${step.replica.name} runs on Kubernetes node ${k8sNode} beside the ${there.length === 1 ? 'master' : 'masters'} ${there.map(podName).join(', ')}: ` +
    `afterwards ${there.length + 1} masters run there, and losing that node takes them all at once.` +
    (better ? ` redisctl failover ${step.master.name} --to ${better.pod.pod} puts it on ${better.pod.k8sNode}, which holds no master.` : '')
}

const waitHint = ['Wait until the replica is in sync (redisctl status shows SYNC "in sync"), then run the same command again.']

function noReplicaInSync(masterName: string, master: TopologyNode, replicas: readonly TopologyNode[]): PreconditionError {
  if (replicas.length === 0) {
    return new PreconditionError(`${masterName} has no replica: there is nobody to hand its slots to.`,
      ['redisctl node add-replica (or scale --replicas-per-master) gives it one.'])
  }
  const reasons = replicas.map((r) => notReady(r, master)!).join('; ')
  return new PreconditionError(`No replica of ${masterName} is in sync, so a failover could lose acknowledged writes: ${reasons}.`, [...waitHint, FORCE_HINT])
}

/** A master on the node to evacuate that could not be moved off it, and why. */
export interface Unmovable {
  master: string
  reason: string
}

export interface EvacuationPlan {
  k8sNode: string
  /** The cluster's pods on that Kubernetes node. */
  pods: string[]
  /** Planned failovers, one shard at a time, each onto an in-sync replica on another Kubernetes node. */
  failovers: FailoverStep[]
  unmovable: Unmovable[]
}

/**
 * `redisctl evacuate --k8s-node NODE`: every master owning slots on that Kubernetes node handed to an in-sync replica
 * elsewhere, so that draining the node stops only replicas. Spreads the new masters over the nodes holding the fewest.
 */
export function planEvacuation(topology: Topology, k8sNode: string): EvacuationPlan {
  const onNode = topology.nodes.filter((n) => n.pod?.k8sNode === k8sNode)
  const counter = masterCounter(topology)
  const failovers: FailoverStep[] = []
  const unmovable: Unmovable[] = []
  for (const master of onNode.filter((n) => n.role === 'master' && n.slotCount > 0 && n.id)) {
    const name = podName(master)
    const replicas = replicasOf(topology, master.id!)
    const best = master.reachable ? bestInSyncReplica(replicas, master, counter.count, k8sNode) : undefined
    if (best) {
      counter.move(k8sNode, best.pod.k8sNode)
      failovers.push({mode: 'planned', master: {name, id: master.id!, address: master.address, pod: master.pod}, replica: {name: best.pod.pod, id: best.id, pod: best.pod}})
      continue
    }
    unmovable.push({master: name, reason: whyUnmovable(master, replicas, k8sNode)})
  }
  return {k8sNode, pods: onNode.map(podName), failovers, unmovable}
}

function whyUnmovable(master: TopologyNode, replicas: readonly TopologyNode[], k8sNode: string): string {
  if (!master.reachable) return `${podName(master)} did not answer: a planned failover needs the master to hand over its last writes`
  if (replicas.length === 0) return `${podName(master)} has no replica`
  const elsewhere = replicas.filter((r) => r.pod?.k8sNode !== k8sNode)
  if (elsewhere.length === 0) return `every replica of ${podName(master)} (${replicas.map(podName).join(', ')}) runs on ${k8sNode} too`
  return `no replica of ${podName(master)} off ${k8sNode} is in sync: ${elsewhere.map((r) => notReady(r, master)).join('; ')}`
}

/** The master `drill failover` deletes the pod of, and the replicas one of which should take over. */
export interface DrillTarget {
  master: {name: string; id: string; pod: PodRef; slots: SlotRange[]}
  replicas: string[]
}

/**
 * `redisctl drill failover [--pod POD]`: the master on POD, else the first master with a replica in sync. Refused
 * (nothing changed) on a cluster check finds errors in, and for a master with no replica in sync: its slots would
 * go without an owner, which is an outage, not a drill.
 */
export function planDrill(topology: Topology, pod?: string): DrillTarget {
  const errors = checkTopology(topology).filter((f) => f.severity === 'error')
  if (errors.length > 0) {
    throw new PreconditionError(`A drill runs on a healthy cluster, and check finds errors: ${sentences(errors.map((f) => f.message))}`, ['redisctl repair, then the same command again.'])
  }
  const counter = masterCounter(topology).count
  const masters = topology.nodes.filter((n): n is PodNode => isPodNode(n) && n.role === 'master' && n.slotCount > 0)
  const chosen = pod === undefined
    ? masters.find((m) => bestInSyncReplica(replicasOf(topology, m.id), m, counter))
    : masters.find((m) => m.pod.pod === pod)
  if (pod !== undefined && !chosen) {
    const named = topology.nodes.find((n) => n.pod?.pod === pod)
    if (!named) throw new NotFoundError(`--pod ${pod}: no pod of the cluster has that name.`, ['redisctl status lists the pods and their roles.'])
    throw new UsageError(`--pod ${pod} is not a master owning slots: the drill deletes a master's pod.`, ['redisctl status lists the masters.'])
  }
  if (!chosen) throw new PreconditionError('No master has a replica in sync: deleting a master\'s pod would leave its slots without an owner.', [...waitHint])
  const replicas = replicasOf(topology, chosen.id)
  if (!bestInSyncReplica(replicas, chosen, counter)) throw noReplicaInSync(chosen.pod.pod, chosen, replicas)
  return {master: {name: chosen.pod.pod, id: chosen.id, pod: chosen.pod, slots: chosen.slots}, replicas: replicas.map(podName)}
}

import {NotFoundError, UsageError} from '../errors.js'
import type {ClusterLayout, PodRef, Topology, TopologyNode} from './model.js'
import {placeReplicas, type PlacementViolation, type Shard} from './placement.js'

/** What `node add` (new empty masters) or `node add-replica` turns the pods it joins into. */
export type JoinRole = 'master' | 'replica'

export interface JoinPlan {
  /** The cluster as it is plus the joining pods: what the join steps bring about. */
  layout: ClusterLayout
  /** Each joining pod, with the master it replicates when it becomes a replica. */
  joining: Array<{pod: PodRef; master?: PodRef}>
  /** New replicas that share a Kubernetes node or zone with their master because no other pod was free. */
  violations: PlacementViolation[]
}

/**
 * The pods a run may join, in the order to use them: first those an interrupted run recorded as joining
 * (`pending`: they may have met the cluster already, or for add-replica replicate already), then the pods outside
 * the cluster, each by ordinal. A pod that owns slots or holds keys is never taken, nor a pending replica for a
 * new master.
 */
export function joinablePods(topology: Topology, pending: ReadonlySet<string>, role: JoinRole): PodRef[] {
  const usable = topology.nodes.filter((n): n is TopologyNode & {pod: PodRef} => n.pod !== undefined && n.reachable &&
    n.slotCount === 0 && !n.keys && (!n.inCluster || (pending.has(n.pod.pod) && (n.role === 'master' || role === 'replica'))))
  const rank = (n: TopologyNode & {pod: PodRef}): number => (pending.has(n.pod.pod) ? 0 : 1)
  return usable.sort((a, b) => rank(a) - rank(b) || a.pod.ordinal - b.pod.ordinal).map((n) => n.pod)
}

/** The joining pods become masters without slots, for a rebalance to fill. */
export function planAddMasters(topology: Topology, joining: readonly PodRef[]): JoinPlan {
  const shards = currentShards(topology, joining)
  return {
    layout: {shards: [...shards, ...joining.map((master) => ({master, slots: [], replicas: []}))]},
    joining: joining.map((pod) => ({pod})),
    violations: [],
  }
}

/**
 * Each joining pod becomes a replica: of `masterPod` when given, else of the master with the fewest replicas
 * (ties go to the master it can follow from another Kubernetes node and zone, then the lowest ordinal). Which free
 * pod follows which master is placeReplicas' choice. A pod already replicating (a resumed run) stays where it is.
 */
export function planAddReplicas(topology: Topology, joining: readonly PodRef[], masterPod?: string): JoinPlan {
  const shards = currentShards(topology, joining)
  const named = masterPod === undefined ? undefined : requireMaster(topology, shards, masterPod)
  const placedAlready = new Set(shards.flatMap((s) => s.replicas.map((r) => r.pod)))
  const result: JoinPlan['joining'] = joining.filter((p) => placedAlready.has(p.pod))
    .map((pod) => ({pod, master: shards.find((s) => s.replicas.some((r) => r.pod === pod.pod))!.master}))
  let free = joining.filter((p) => !placedAlready.has(p.pod))
  const violations: PlacementViolation[] = []
  while (free.length > 0) {
    const options = named ? [named] : fewestReplicas(shards)
    const best = options.map((shard) => {
      const placement = placeReplicas([shard], free, shard.replicas.length + 1)
      const added = placement.shards[0].replicas.find((r) => !shard.replicas.includes(r))!
      const violation = placement.violations.find((v) => v.replica === added)
      return {shard, added, violation, rank: violation ? (violation.kind === 'same-node' ? 2 : 1) : 0}
    }).sort((a, b) => a.rank - b.rank || a.shard.master.ordinal - b.shard.master.ordinal)[0]
    best.shard.replicas.push(best.added)
    result.push({pod: best.added, master: best.shard.master})
    if (best.violation) violations.push(best.violation)
    free = free.filter((p) => p !== best.added)
  }
  return {layout: {shards}, joining: result, violations}
}

type LayoutShard = ClusterLayout['shards'][number]

/** Every master with a pod, with its slots and replicas as they are; masters among the joining pods are left out. */
function currentShards(topology: Topology, joining: readonly PodRef[]): LayoutShard[] {
  const leaving = new Set(joining.map((p) => p.pod))
  const masters = topology.nodes.filter((n) => n.pod && n.id && n.role === 'master' && n.inCluster && !leaving.has(n.pod.pod))
  return masters.map((m) => ({
    master: m.pod!,
    slots: [...m.slots],
    replicas: topology.nodes.filter((r) => r.pod && r.role === 'replica' && r.masterId === m.id).map((r) => r.pod!),
  }))
}

function fewestReplicas(shards: LayoutShard[]): LayoutShard[] {
  const fewest = Math.min(...shards.map((s) => s.replicas.length))
  return shards.filter((s) => s.replicas.length === fewest)
}

function requireMaster(topology: Topology, shards: LayoutShard[], pod: string): Shard {
  const shard = shards.find((s) => s.master.pod === pod)
  if (shard) return shard
  const node = topology.nodes.find((n) => n.pod?.pod === pod)
  if (!node) {
    throw new NotFoundError(`--master ${pod}: no pod of this cluster has that name; its masters are ${shards.map((s) => s.master.pod).join(', ')}.`, [
      'redisctl status lists the masters; name one of them, or leave --master out to pick the master with the fewest replicas.',
    ])
  }
  const what = node.role === 'replica' ? 'a replica' : node.inCluster ? 'a node being joined' : 'not part of the cluster'
  throw new UsageError(`--master ${pod}: that pod is ${what}, not a master of this cluster.`, [
    'redisctl status lists the masters; name one of them, or leave --master out to pick the master with the fewest replicas.',
  ])
}

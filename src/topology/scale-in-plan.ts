import {PreconditionError, UsageError} from '../errors.js'
import type {ClusterLayout, PodRef, Topology, TopologyNode} from './model.js'
import {placeReplicas, type Placement, type Shard} from './placement.js'
import {planDrain, type SlotMove} from './rebalance.js'
import {shapePodCount, type ClusterShape} from './shape.js'
import {countSlots, rangesToSlots, type SlotRange, slotsToRanges} from './slots.js'
import {plural} from '../util/words.js'

/** A master whose pod goes and whose replica on a pod that stays takes its place without moving data. */
export interface Failover {
  replica: PodRef
  replicaId: string
  master: PodRef
  masterId: string
}

/** A master that hands all its slots to the masters that stay. */
export interface Drained {
  pod: PodRef
  id: string
  slots: SlotRange[]
  keys: number
}

export interface ScaleInPlan {
  podsAfter: number
  /** Pods the StatefulSet removes: the highest ordinals, whatever their role is today. */
  removed: PodRef[]
  failovers: Failover[]
  drained: Drained[]
  moves: SlotMove[]
  /** The cluster once done: the masters that stay with their slots after the moves, and their replicas. */
  layout: ClusterLayout
  placement: Placement
  /** Cluster node ids of the removed pods, to be forgotten by every node that stays. */
  forget: {pod: PodRef; id: string}[]
}

/**
 * How to shrink to `shape`: the StatefulSet removes the highest ordinals, so the plan starts from them. Of the
 * shards (masters owning slots), those with no pod that stays must be drained; of the others, the ones that stay
 * are those that are dearest to drain: their keys, less a little when staying needs a failover (a shard whose
 * master goes is kept by promoting its replica that stays, which moves no data). The rest are drained evenly
 * into the masters that stay. The pods that stay and are not masters then replicate the masters that stay, each
 * keeping its master when it can, with the placement's node and zone anti-affinity.
 *
 * Planning the state a run left half done gives the rest of the same plan: failovers done, drained masters
 * emptied, replicas re-homed are each taken as they are.
 */
export function planScaleIn(topology: Topology, shape: ClusterShape): ScaleInPlan {
  const podsAfter = shapePodCount(shape)
  const stays = (pod: PodRef): boolean => pod.ordinal < podsAfter
  const removed = topology.pods.filter((p) => !stays(p))
  const nodes = topology.nodes.filter((n): n is TopologyNode & {pod: PodRef; id: string} => Boolean(n.pod && n.id))
  const stranded = topology.nodes.filter((n) => !n.pod && n.role === 'master' && n.slotCount > 0)
  if (stranded.length > 0) {
    throw new PreconditionError(`Slots are owned by ${stranded.length} cluster node(s) that no pod answers for, so they cannot be moved.`, [
      'Run redisctl repair first, then scale again.',
    ])
  }
  const shards = nodes.filter((n) => n.role === 'master' && n.slotCount > 0).map((master) => {
    const replicas = nodes.filter((r) => r.role === 'replica' && r.masterId === master.id)
    return {master, replicas, staying: [master, ...replicas].filter((n) => stays(n.pod))}
  })
  if (shape.masters > shards.length) {
    throw new UsageError(`The cluster has ${plural(shards.length, 'master')}; ${plural(shape.masters, 'master')} on fewer pods is a scale out of masters and a scale in of pods at once.`, [
      `Scale in two steps: first redisctl scale --masters ${shape.masters} with the replicas you have, then lower --replicas-per-master.`,
    ])
  }
  const keep = chooseShardsToKeep(shards, shape.masters, stays)
  const failovers: Failover[] = keep.filter((s) => !stays(s.master.pod)).map((s) => {
    const replica = [...s.staying].sort((a, b) => a.pod.ordinal - b.pod.ordinal)[0]
    return {replica: replica.pod, replicaId: replica.id, master: s.master.pod, masterId: s.master.id}
  })
  const promoted = new Map(failovers.map((f) => [f.masterId, f.replicaId]))
  const drainedShards = shards.filter((s) => !keep.includes(s))
  const drained = drainedShards.map((s) => ({pod: s.master.pod, id: s.master.id, slots: s.master.slots, keys: s.master.keys ?? 0}))
  // Moves name the masters as they will be when the slots move: after the failovers.
  const moves = drained.length === 0 ? [] : planDrain(shards.map((s) => ({id: promoted.get(s.master.id) ?? s.master.id, slots: s.master.slots})), drained.map((d) => d.id))

  const masterAfter = (s: typeof shards[number]): TopologyNode & {pod: PodRef; id: string} => nodes.find((n) => n.id === (promoted.get(s.master.id) ?? s.master.id))!
  const survivors = keep.map(masterAfter)
  const busy = new Set(survivors.map((m) => m.pod.pod))
  const kept: Shard[] = keep.map((s) => {
    const master = masterAfter(s)
    const followers = s.staying.filter((n) => n.pod.pod !== master.pod.pod)
      .sort((a, b) => Number(a.pod.k8sNode === master.pod.k8sNode) - Number(b.pod.k8sNode === master.pod.k8sNode) || a.pod.ordinal - b.pod.ordinal)
      .slice(0, shape.replicasPerMaster)
    for (const f of followers) busy.add(f.pod.pod)
    return {master: master.pod, replicas: followers.map((f) => f.pod)}
  }).sort((a, b) => a.master.ordinal - b.master.ordinal)
  const free = topology.pods.filter((p) => stays(p) && !busy.has(p.pod))
  const placement = placeReplicas(kept, free, shape.replicasPerMaster)
  // A promoted replica owns nothing yet: its shard's slots are its master's until the failover.
  const slotsAfter = new Map(keep.map((s) => [masterAfter(s).id, new Set(rangesToSlots(s.master.slots))]))
  for (const move of moves) for (const slot of rangesToSlots(move.slots)) slotsAfter.get(move.to)?.add(slot)
  const layout: ClusterLayout = {
    shards: placement.shards.map((s) => {
      const id = survivors.find((m) => m.pod.pod === s.master.pod)!.id
      return {master: s.master, slots: slotsToRanges(slotsAfter.get(id)!), replicas: s.replicas}
    }),
  }
  return {
    podsAfter,
    removed,
    failovers,
    drained,
    moves,
    layout,
    placement,
    forget: nodes.filter((n) => !stays(n.pod)).map((n) => ({pod: n.pod, id: n.id})),
  }
}

/** A master once the scale in is done: the slots its shard owns now and afterwards (as `scale --dry-run` shows them both ways). */
export interface MasterAfter {
  pod: string
  k8sNode?: string
  slotsBefore: number
  slotsAfter: number
  slots: SlotRange[]
  replicas: string[]
}

/** The masters of the plan's layout; a replica promoted by a failover counts its master's slots as its own before. */
export function mastersAfter(topology: Topology, plan: ScaleInPlan): MasterAfter[] {
  const promotedFrom = new Map(plan.failovers.map((f) => [f.replica.pod, f.master.pod]))
  const slotsNow = (pod: string): number => topology.nodes.find((n) => n.pod?.pod === (promotedFrom.get(pod) ?? pod))?.slotCount ?? 0
  return plan.layout.shards.map((s) => ({
    pod: s.master.pod, k8sNode: s.master.k8sNode, slotsBefore: slotsNow(s.master.pod), slotsAfter: countSlots(s.slots), slots: s.slots,
    replicas: s.replicas.map((r) => r.pod),
  }))
}

interface ShardChoice {
  master: TopologyNode & {pod: PodRef}
  staying: readonly unknown[]
}

/**
 * The `count` shards to keep. Only shards with a pod that stays can be kept. Draining a shard costs moving its
 * keys; keeping one whose master goes costs a failover, counted as a twentieth of an average shard's keys, so
 * that shards of about the same size are kept where no failover is needed, and then by lowest master ordinal.
 */
function chooseShardsToKeep<S extends ShardChoice>(shards: readonly S[], count: number, stays: (pod: PodRef) => boolean): S[] {
  const candidates = shards.filter((s) => s.staying.length > 0)
  if (candidates.length < count) {
    throw new PreconditionError(`Only ${candidates.length} of the ${plural(shards.length, 'master')} have their master or a replica on a pod that stays (ordinals below ${count}), but ${plural(count, 'master')} must stay.`, [
      'Fail over so that the masters to keep are on low ordinals (redis-cli CLUSTER FAILOVER on a replica), or keep more pods: a larger --replicas-per-master.',
    ])
  }
  const averageKeys = shards.reduce((n, s) => n + (s.master.keys ?? 0), 0) / Math.max(1, shards.length)
  const bucket = Math.max(1, averageKeys / 20)
  const worth = (s: S): number => Math.round((s.master.keys ?? 0) / bucket) - (stays(s.master.pod) ? 0 : 1)
  return [...candidates].sort((a, b) => worth(b) - worth(a) || a.master.pod.ordinal - b.master.pod.ordinal).slice(0, count)
}

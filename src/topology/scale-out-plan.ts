import {PreconditionError} from '../errors.js'
import type {ClusterLayout, PodRef, Topology} from './model.js'
import {placeReplicas, placeShards, type Placement, type Shard} from './placement.js'
import {planRebalance, type MasterSlots, type RebalanceOptions, type SlotMove} from './rebalance.js'
import {countSlots, rangesToSlots, slotsToRanges, type SlotRange} from './slots.js'
import {plural} from '../util/words.js'

/**
 * The layout after growing to `masters` masters with `replicasPerMaster` replicas each. Masters that own slots stay
 * masters with their replicas; every other pod is free: some become the new (empty) masters, the rest replicas where
 * shards lack them. Pods that already joined in an interrupted run are free too until they own slots or replicate,
 * so running the plan again picks up where it stopped.
 */
export function planScaleOut(topology: Topology, masters: number, replicasPerMaster: number): {layout: ClusterLayout; placement: Placement} {
  const owners = topology.nodes.filter((n) => n.pod && n.role === 'master' && n.slotCount > 0)
  const shards: Array<Shard & {slots: typeof owners[number]['slots']}> = owners.map((m) => ({
    master: m.pod!,
    slots: m.slots,
    replicas: topology.nodes.filter((r) => r.pod && r.role === 'replica' && r.masterId === m.id).map((r) => r.pod!),
  }))
  const used = new Set(shards.flatMap((s) => [s.master.pod, ...s.replicas.map((r) => r.pod)]))
  const free: PodRef[] = topology.pods.filter((p) => !used.has(p.pod))
  refuseStaleData(topology, free)
  const newMasters = Math.max(0, masters - shards.length)
  // An interrupted run may have left empty masters in the cluster with replicas following them: CLUSTER REPLICATE
  // cannot turn such a replica into a master, so those masters are the new ones first, and keep their replicas.
  const joined = topology.nodes.filter((n) => n.pod && n.id && free.includes(n.pod) && n.inCluster && n.role === 'master')
    .sort((a, b) => a.pod!.ordinal - b.pod!.ordinal).slice(0, newMasters).map((m) => ({
      master: m.pod!,
      replicas: topology.nodes.filter((r) => r.pod && free.includes(r.pod) && r.role === 'replica' && r.masterId === m.id).map((r) => r.pod!).slice(0, replicasPerMaster),
    }))
  const taken = new Set(joined.flatMap((s) => [s.master.pod, ...s.replicas.map((r) => r.pod)]))
  const rest = free.filter((p) => !taken.has(p.pod))
  const chosen = newMasters > joined.length ? placeShards(rest, newMasters - joined.length, 0, {besideMasters: [...shards, ...joined].map((s) => s.master)}).shards.map((s) => s.master) : []
  const chosenNames = new Set(chosen.map((p) => p.pod))
  const all: Shard[] = [...shards, ...joined, ...chosen.map((master) => ({master, replicas: []}))]
  const placement = placeReplicas(all, rest.filter((p) => !chosenNames.has(p.pod)), replicasPerMaster)
  const slotsOf = new Map(shards.map((s) => [s.master.pod, s.slots]))
  return {
    placement,
    layout: {shards: placement.shards.map((s) => ({master: s.master, slots: [...(slotsOf.get(s.master.pod) ?? [])], replicas: s.replicas}))},
  }
}

/**
 * A new pod outside the cluster that holds keys or claims slots runs on a volume left by an earlier member
 * (a PVC kept on scale-in): Redis takes the slots of the keys it loads as its own, so meeting it would pit its
 * claims against the owners'. It must start empty.
 */
function refuseStaleData(topology: Topology, free: readonly PodRef[]): void {
  const stale = topology.nodes.filter((n) => n.pod && free.includes(n.pod) && !n.inCluster && ((n.keys ?? 0) > 0 || n.slotCount > 0))
  if (stale.length === 0) return
  throw new PreconditionError(`${stale.map((n) => `${n.pod!.pod} (${plural(n.keys ?? 0, 'key')}, ${plural(n.slotCount, 'slot')})`).join(', ')} ${stale.length === 1 ? 'is' : 'are'} not in the cluster but hold data, likely from a volume an earlier member left: joining would conflict with the slots' owners.`, [
    'If that data is not needed, empty the pod (redis-cli -h <pod-ip> FLUSHALL, then CLUSTER RESET HARD) or delete its PersistentVolumeClaim and pod, and run this again.',
  ])
}

/** What `scale --dry-run` shows: who becomes what, and which slots would go where. Pods by name. */
export interface ScaleOutPreview {
  /** Pods that would join: new ones, and pods already running outside the cluster. */
  joining: Array<{pod: string; role: 'master' | 'replica'; master?: string; k8sNode?: string; exists: boolean}>
  /** Every master after the scale, with its slot count before and after the rebalance. */
  masters: Array<{pod: string; k8sNode?: string; slotsBefore: number; slotsAfter: number; slots: SlotRange[]; replicas: string[]}>
  /** Masters by pod: the new ones have no node id yet. */
  moves: SlotMove[]
  placement: Placement
}

/**
 * The scale's plan before any pod exists: `newPods` stand for the pods the StatefulSet will add (their Kubernetes
 * nodes still unknown). Joins the way planScaleOut does, then rebalances the way the scale does: masters that
 * stay masters and the new ones, empty masters included.
 */
export function previewScaleOut(topology: Topology, newPods: readonly PodRef[], masters: number, replicasPerMaster: number, rebalance: RebalanceOptions): ScaleOutPreview {
  const {layout, placement} = planScaleOut({...topology, pods: [...topology.pods, ...newPods]}, masters, replicasPerMaster)
  const nodeOf = new Map(topology.nodes.flatMap((n) => (n.pod ? [[n.pod.pod, n] as const] : [])))
  const replicaPods = new Set(layout.shards.flatMap((s) => s.replicas.map((r) => r.pod)))
  // Masters the layout leaves alone (spare empty masters) still take part in the scale's rebalance.
  const spareMasters = topology.nodes.filter((n) => n.pod && n.id && n.role === 'master' && !replicaPods.has(n.pod.pod) &&
    !layout.shards.some((s) => s.master.pod === n.pod!.pod))
  const planned = [
    ...layout.shards.map((s) => ({pod: s.master, slots: s.slots, replicas: s.replicas.map((r) => r.pod)})),
    ...spareMasters.map((n) => ({pod: n.pod!, slots: n.slots, replicas: []})),
  ]
  // Pods stand for themselves by name in the plan: new pods have no node id yet.
  const moves = planRebalance(planned.map((m): MasterSlots => ({id: m.pod.pod, slots: m.slots})), rebalance)
  const after = new Map(planned.map((m) => [m.pod.pod, new Set(rangesToSlots(m.slots))]))
  for (const move of moves) {
    for (const slot of rangesToSlots(move.slots)) {
      after.get(move.from)!.delete(slot)
      after.get(move.to)!.add(slot)
    }
  }
  const isNew = new Set(newPods.map((p) => p.pod))
  const alreadyIs = (pod: string, role: 'master' | 'replica', masterPod?: string): boolean => {
    const node = nodeOf.get(pod)
    if (role === 'master') return node?.role === 'master' && node.slotCount > 0
    return node?.role === 'replica' && node.masterId !== undefined && node.masterId === nodeOf.get(masterPod!)?.id
  }
  return {
    joining: layout.shards.flatMap((s) => [
      ...(alreadyIs(s.master.pod, 'master') ? [] : [{pod: s.master.pod, role: 'master' as const, k8sNode: s.master.k8sNode, exists: !isNew.has(s.master.pod)}]),
      ...s.replicas.filter((r) => !alreadyIs(r.pod, 'replica', s.master.pod))
        .map((r) => ({pod: r.pod, role: 'replica' as const, master: s.master.pod, k8sNode: r.k8sNode, exists: !isNew.has(r.pod)})),
    ]),
    masters: planned.map((m) => ({
      pod: m.pod.pod, k8sNode: m.pod.k8sNode, slotsBefore: countSlots(m.slots), slotsAfter: after.get(m.pod.pod)!.size,
      slots: slotsToRanges(after.get(m.pod.pod)!), replicas: m.replicas,
    })),
    moves,
    placement,
  }
}

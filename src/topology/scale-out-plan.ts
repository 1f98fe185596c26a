import {PreconditionError} from '../errors.js'
import type {ClusterLayout, PodRef, Topology} from './model.js'
import {placeReplicas, placeShards, type Placement, type Shard} from './placement.js'

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
  const chosen = newMasters > joined.length ? placeShards(rest, newMasters - joined.length, 0).shards.map((s) => s.master) : []
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
  throw new PreconditionError(`${stale.map((n) => `${n.pod!.pod} (${n.keys ?? 0} keys, ${n.slotCount} slots)`).join(', ')} ${stale.length === 1 ? 'is' : 'are'} not in the cluster but hold data, likely from a volume an earlier member left: joining would conflict with the slots' owners.`, [
    'If that data is not needed, empty the pod (redis-cli -h <pod-ip> FLUSHALL, then CLUSTER RESET HARD) or delete its PersistentVolumeClaim and pod, and run this again.',
  ])
}

import {NotFoundError, PreconditionError, UsageError} from '../errors.js'
import type {ClusterLayout, PodRef, Topology, TopologyNode} from './model.js'
import {plural} from '../util/words.js'

export type RemovableNode = TopologyNode & {pod: PodRef; id: string}

export interface NodeRemovalPlan {
  node: RemovableNode
  /** Already out of the cluster and empty: an earlier run got that far. */
  alreadyOut: boolean
  /** The cluster without the node: its replicas, if it was a master, follow the masters with the fewest replicas. */
  layout: ClusterLayout
  rehomed: {replica: PodRef; master: PodRef}[]
}

export function requireMaster(topology: Topology, pod: string): RemovableNode {
  const node = requireNode(topology, pod)
  if (node.role !== 'master') throw new UsageError(`${pod} is a replica, not a master.`, ['Name a master: redisctl status lists the roles.'])
  return node
}

export function requireNode(topology: Topology, pod: string): RemovableNode {
  const node = topology.nodes.find((n) => n.pod?.pod === pod)
  if (!node) {
    throw new NotFoundError(`There is no pod ${pod} among the cluster's pods.`, ['redisctl status lists the pods and their roles.'])
  }
  if (!node.reachable || !node.id) throw new PreconditionError(`${pod} did not answer: ${node.error?.message ?? 'unknown error'}`)
  return node as RemovableNode
}

/**
 * Taking one node out of the cluster: a replica, or (unless `replicaOnly`) a master that owns no slots any more.
 * A master's replicas move to the masters with the fewest replicas, preferring another Kubernetes node than the
 * new master's, so that no replica is left following a node that is gone.
 */
export function planNodeRemoval(topology: Topology, pod: string, replicaOnly: boolean): NodeRemovalPlan {
  const node = requireNode(topology, pod)
  const owners = topology.nodes.filter((n): n is RemovableNode => Boolean(n.pod && n.id && n.role === 'master' && n.slotCount > 0))
  const alreadyOut = !node.inCluster && node.slotCount === 0 && (node.keys ?? 0) === 0
  if (!alreadyOut && node.role === 'master') {
    if (replicaOnly) {
      throw new UsageError(`${pod} is a master${node.slotCount > 0 ? ` owning ${plural(node.slotCount, 'slot')}` : ''}, not a replica.`, [
        `To remove a master: redisctl slots reshard --from ${pod} --to-all, then redisctl node del ${pod}.`,
      ])
    }
    if (node.slotCount > 0) {
      throw new PreconditionError(`${pod} is a master that still owns ${plural(node.slotCount, 'slot')}; nothing was changed.`, [
        `Move them first: redisctl slots reshard --from ${pod} --to-all, then run this again.`,
      ])
    }
  }
  const shards = owners.map((m) => ({
    master: m.pod,
    slots: m.slots,
    replicas: topology.nodes.filter((r) => r.pod && r.role === 'replica' && r.masterId === m.id && r !== node).map((r) => r.pod!),
  }))
  const orphans = alreadyOut ? [] : topology.nodes.filter((r) => r.pod && r.role === 'replica' && r.masterId === node.id).map((r) => r.pod!)
  const rehomed = orphans.map((replica) => {
    const shard = [...shards].sort((a, b) => a.replicas.length - b.replicas.length ||
      Number(a.master.k8sNode === replica.k8sNode) - Number(b.master.k8sNode === replica.k8sNode) || a.master.ordinal - b.master.ordinal)[0]
    shard.replicas.push(replica)
    return {replica, master: shard.master}
  })
  return {node, alreadyOut, layout: {shards}, rehomed}
}

/**
 * The StatefulSet once `leaving` is out of the cluster: it removes only its highest ordinals, so it shrinks over
 * as many pods from the top as are out of the cluster and empty (`leaving` counts as such); the pods below them
 * that are out of the cluster stay running, empty.
 */
export function shrinkAfterRemoval(topology: Topology, replicas: number, leaving: string): {podsAfter: number; removedPods: string[]; outside: string[]} {
  const out = (n: TopologyNode): boolean => n.pod?.pod === leaving || (!n.inCluster && n.slotCount === 0 && (n.keys ?? 0) === 0)
  const byOrdinal = topology.nodes.filter((n): n is RemovableNode => Boolean(n.pod)).sort((a, b) => b.pod.ordinal - a.pod.ordinal)
  let podsAfter = replicas
  for (const n of byOrdinal) {
    if (n.pod.ordinal !== podsAfter - 1 || !out(n)) break
    podsAfter -= 1
  }
  return {
    podsAfter,
    removedPods: byOrdinal.filter((n) => n.pod.ordinal >= podsAfter).map((n) => n.pod.pod).reverse(),
    outside: byOrdinal.filter((n) => n.pod.ordinal < podsAfter && out(n)).map((n) => n.pod.pod).reverse(),
  }
}

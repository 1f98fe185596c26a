import {isTlsFailure, RedisUnreachableError, TLS_HINT} from '../errors.js'
import {podName, type Topology, type TopologyNode} from './model.js'
import {formatRanges} from './slots.js'
import type {SyncState} from './sync.js'
import {agree, firstFew, plural} from '../util/words.js'

/**
 * Where a node stands: in the cluster; answering but in no cluster (never met, or removed by `node del`);
 * a pod that did not answer (what the others say about it is shown); a cluster node that no pod answers for.
 */
export type Membership = 'in-cluster' | 'outside-cluster' | 'did-not-answer' | 'no-pod'

/** One row of `redisctl status`: who is where, and what it holds. */
export interface NodeStatus {
  pod: string
  k8sNode?: string
  zone?: string
  ip: string
  port: number
  id?: string
  membership: Membership
  role?: 'master' | 'replica'
  masterPod?: string
  slots: string
  slotCount: number
  keys?: number
  usedMemoryBytes?: number
  /** The cluster bus as the nodes that answered see it; absent when none of them knows the node. */
  link?: 'connected' | 'disconnected'
  /** A replica that answered: how far it is from its master. */
  sync?: SyncState
  flags: string[]
  reachable: boolean
  /** Why the node did not answer. */
  error?: string
}

export const membership = (n: TopologyNode): Membership =>
  !n.pod ? 'no-pod' : !n.reachable ? 'did-not-answer' : n.inCluster ? 'in-cluster' : 'outside-cluster'

export function nodeStatuses(topology: Topology): NodeStatus[] {
  const byId = new Map(topology.nodes.flatMap((n) => (n.id ? [[n.id, n] as const] : [])))
  return topology.nodes.map((n) => {
    const master = n.masterId ? byId.get(n.masterId) : undefined
    const place = membership(n)
    // A node outside the cluster calls itself a master of nothing: that is no role in this cluster.
    const inCluster = place !== 'outside-cluster'
    return {
      pod: podName(n),
      k8sNode: n.pod?.k8sNode,
      zone: n.pod?.zone,
      ip: n.address.host,
      port: n.address.port,
      id: n.id,
      membership: place,
      role: inCluster ? n.role : undefined,
      masterPod: master ? podName(master) : n.masterId,
      slots: formatRanges(n.slots),
      slotCount: n.slotCount,
      keys: n.keys,
      usedMemoryBytes: n.usedMemory,
      link: n.link,
      sync: n.sync,
      flags: n.flags,
      reachable: n.reachable,
      error: n.error?.message,
    }
  })
}

/** What can be said about the whole cluster, from the nodes that answered only. */
export interface ClusterSummary {
  /** cluster_state over the nodes in the cluster that answered: ok when all say ok; unknown when none answered. */
  clusterState: 'ok' | 'fail' | 'unknown'
  /** Nodes of the cluster: those that answered, pods that did not, and cluster nodes with no selected pod. */
  nodes: number
  /** Nodes in the cluster that answered with a slot map. */
  answered: number
  /** Of those, how many see the most common slot map. */
  agreeing: number
  /** Every node that answered agrees on the slot map (and at least one did). */
  slotsAgreed: boolean
  /** Pods of the cluster that did not answer. */
  silent: string[]
  /**
   * Nodes the cluster lists at an address no selected pod has: not asked, so not said to be silent. Their pods are
   * gone (repair), or not selected (a narrower -l).
   */
  withoutPod: string[]
  /** Pods that answer but are in no cluster. */
  outside: string[]
}

export function summarize(topology: Topology): ClusterSummary {
  const members = topology.nodes.filter((n) => n.reachable && n.inCluster)
  const silent = topology.nodes.filter((n) => n.pod && !n.reachable)
  const withoutPod = topology.nodes.filter((n) => !n.pod && !n.flags.includes('handshake'))
  const states = new Set(members.map((n) => n.clusterState))
  return {
    clusterState: states.size === 1 && states.has('ok') ? 'ok' : states.has('fail') ? 'fail' : 'unknown',
    nodes: members.length + silent.length + withoutPod.length,
    answered: topology.agreement.answered,
    agreeing: topology.agreement.agreeing,
    slotsAgreed: topology.agreed,
    silent: silent.map(podName),
    withoutPod: withoutPod.map(podName),
    outside: topology.nodes.filter((n) => membership(n) === 'outside-cluster').map(podName),
  }
}

/** The agreement line of status and check: agreement claimed only from the nodes that answered, and never from none. */
export function describeAgreement(summary: ClusterSummary): string {
  const {answered, agreeing, nodes, silent, withoutPod} = summary
  const unasked = withoutPod.length === 0 ? '' : `; ${plural(withoutPod.length, 'node')} the cluster lists ${agree(withoutPod.length, 'has', 'have')} no pod among those selected (not asked)`
  const unanswered = `${silent.length === 0 ? '' : `; ${firstFew(silent)} did not answer`}${unasked}`
  if (answered === 0) return silent.length === 0 ? 'no node is in a cluster yet (redisctl cluster create forms one)' : `no node of the cluster answered (${firstFew(silent)}), so nothing is known of the slot map`
  if (!summary.slotsAgreed) return `slot map NOT agreed: ${agreeing} of the ${answered} nodes that answered share one${unanswered}`
  return silent.length + withoutPod.length === 0 ? `slot map agreed by all ${nodes} nodes` : `slot map agreed by ${answered} of ${plural(nodes, 'node')}${unanswered}`
}

/** When no Redis node answered, nothing about the cluster is known: a typed error saying which pods were asked and why they did not answer. */
export function requireSomeAnswer(topology: Topology): void {
  if (topology.nodes.some((n) => n.reachable)) return
  const pods = topology.nodes.filter((n) => n.pod)
  throw new RedisUnreachableError(`No Redis node answered, so nothing can be said about the cluster: ${pods.map((n) =>
    `${podName(n)} (${n.address.host}:${n.address.port}): ${n.error?.message ?? 'not observed'}`).join('; ')}`, [
    ...(pods.some((n) => isTlsFailure(n.error?.message ?? '')) ? [TLS_HINT] : []),
    'Check that the pods are Running and Ready (kubectl get pods -o wide).',
    'Outside the cluster network, use --connect port-forward.',
  ])
}


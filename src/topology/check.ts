import type {NodeFlag} from './observation.js'
import {type Topology, type TopologyNode, podName, replicaMigrationOff, slotlessMasters} from './model.js'
import {formatRanges, SLOT_COUNT, slotsToRanges} from './slots.js'
import {syncProblem} from './sync.js'
import {agree, plural} from '../util/words.js'

export type Severity = 'error' | 'warning'

export type FindingCode =
  | 'unreachable' | 'not-formed' | 'pod-not-in-cluster' | 'node-without-pod' | 'stale-address'
  | 'node-failed' | 'node-suspected' | 'node-noaddr' | 'node-handshake'
  | 'config-disagreement' | 'slot-conflict' | 'slots-uncovered' | 'open-slots' | 'cluster-state-fail'
  | 'master-without-replica' | 'master-without-slots' | 'replica-link-down' | 'replica-syncing' | 'same-node' | 'same-zone' | 'masters-on-one-node' | 'slots-unbalanced' | 'epoch-collision'
  | 'replica-migration-off' | 'node-timeout-lowered'
  /** Nodes that run another value of a setting the ConfigMap's redis.conf names than each other or than it. */
  | 'config-drift'
  /** Something Kubernetes would not let redisctl read, so the check saw less (zones, when Nodes may not be read). */
  | 'kubernetes-access'
  /** Security (topology/security.ts): who may connect, what is encrypted, certificates. */
  | 'no-authentication' | 'default-user-nopass' | 'plaintext-port' | 'certificate-expired' | 'certificate-expiring' | 'certificate-not-secret'

export interface Finding {
  code: FindingCode
  severity: Severity
  message: string
  /** The pods concerned (a node without a pod is named by its address and id). */
  pods: string[]
}

export interface CheckOptions {
  /** A master's share of slots may differ from an even share by this many percent (redis-cli rebalance: 2). */
  balanceThresholdPercent?: number
  /** The cluster-node-timeout of the pods' redis.conf (their ConfigMap), when it could be read. */
  configuredNodeTimeoutMs?: number
}

/**
 * What is wrong with the cluster: what `redis-cli --cluster check` checks (agreement on the configuration, open
 * slots, coverage) plus what only Kubernetes knows (pods outside the cluster, nodes without a pod, masters and
 * replicas sharing a node or zone). Errors mean the cluster does not serve all slots safely; warnings, that it
 * is fragile.
 */
export function checkTopology(topology: Topology, options: CheckOptions = {}): Finding[] {
  const findings: Finding[] = []
  const add = (code: FindingCode, severity: Severity, message: string, nodes: readonly TopologyNode[] = []): void => {
    findings.push({code, severity, message, pods: nodes.map(podName)})
  }
  const {nodes} = topology
  const byId = new Map(nodes.flatMap((n) => (n.id ? [[n.id, n] as const] : [])))
  const reachable = nodes.filter((n) => n.pod && n.reachable)
  const masters = nodes.filter((n) => n.role === 'master' && n.slotCount > 0)

  for (const n of nodes.filter((n) => n.pod && !n.reachable)) add('unreachable', 'error', `${silence(n)}${asOthersSeeIt(n)}.`, [n])
  if (masters.length === 0) {
    if (reachable.length > 0) add('not-formed', 'error', 'No node holds any slot: the cluster has not been formed (redisctl cluster create).', reachable)
    return findings
  }
  for (const n of reachable.filter((n) => !n.inCluster)) add('pod-not-in-cluster', 'warning', `${podName(n)} is not part of the cluster.`, [n])
  for (const n of nodes.filter((n) => !n.pod && !n.flags.includes('handshake'))) {
    const owns = n.slotCount > 0
    add('node-without-pod', owns ? 'error' : 'warning',
      `The cluster still lists node ${n.id} at ${n.address.host}:${n.address.port}, which no pod answers for: its pod is gone, or came back without its data as a new node` +
      `${owns ? `. It owns ${plural(n.slotCount, 'slot')} (${formatRanges(n.slots)}), which no pod serves` : ''} (redisctl repair).`, [n])
  }
  const staleIds = new Set(topology.staleAddresses.map((s) => s.id))
  if (staleIds.size > 0) {
    const moved = nodes.filter((n) => n.id && staleIds.has(n.id))
    const viewers = new Set(topology.staleAddresses.map((s) => s.viewer)).size
    add('stale-address', 'error', `${plural(viewers, 'node')} still ${agree(viewers, 'knows', 'know')} ${names(moved)} at old addresses (pods restarted with new IPs), so they cannot reach them: redisctl repair introduces them again.`, moved)
  }
  const flagged = (flag: NodeFlag): TopologyNode[] => nodes.filter((n) => n.flags.includes(flag))
  const failed = flagged('fail')
  if (failed.length > 0) add('node-failed', 'error', `The cluster marks ${names(failed)} as failed.`, failed)
  const suspected = flagged('fail?').filter((n) => !failed.includes(n))
  if (suspected.length > 0) add('node-suspected', 'warning', `Some nodes cannot reach ${names(suspected)} (fail?).`, suspected)
  const noaddr = flagged('noaddr')
  if (noaddr.length > 0) add('node-noaddr', 'error', `The cluster has no address for ${names(noaddr)}.`, noaddr)
  const handshake = flagged('handshake')
  if (handshake.length > 0) add('node-handshake', 'warning', `Nodes are still being introduced: ${names(handshake)}.`, handshake)

  const {answered, agreeing} = topology.agreement
  if (answered > 0 && !topology.agreed) {
    add('config-disagreement', 'error', `The nodes do not agree on which master owns which slots: ${agreeing} of the ${answered} nodes that answered share one slot map.`, reachable)
  }
  for (const c of topology.conflicts) {
    add('slot-conflict', 'error', `Slots ${formatRanges(c.slots)} are claimed by several nodes.`, c.ids.flatMap((id) => byId.get(id) ?? []))
  }
  if (topology.uncovered.length > 0) {
    const count = topology.uncovered.reduce((n, r) => n + r.end - r.start + 1, 0)
    add('slots-uncovered', 'error', `${count} of ${SLOT_COUNT} slots have no owner: ${formatRanges(topology.uncovered)}.`)
  }
  if (topology.openSlots.length > 0) {
    const open = [...new Set(topology.openSlots.map((o) => o.node))].flatMap((id) => byId.get(id) ?? [])
    add('open-slots', 'error', `Slots ${formatRanges(slotsToRanges(topology.openSlots.map((o) => o.slot)))} are open (migrating/importing): redisctl repair.`, open)
  }
  // A pod outside the cluster always says fail; it is reported as outside the cluster above.
  const failing = reachable.filter((n) => n.inCluster && n.clusterState === 'fail')
  if (failing.length > 0) add('cluster-state-fail', 'error', `${names(failing)} report cluster_state:fail.`, failing)

  const replicasOf = new Map<string | undefined, TopologyNode[]>()
  for (const n of nodes) if (n.role === 'replica') replicasOf.set(n.masterId, [...replicasOf.get(n.masterId) ?? [], n])
  for (const master of masters) {
    const replicas = replicasOf.get(master.id) ?? []
    if (replicas.length === 0) add('master-without-replica', 'warning', `${podName(master)} has no replica: losing it loses its slots.`, [master])
    for (const replica of replicas) {
      const problem = replica.sync && syncProblem(replica.sync, podName(master))
      if (replica.sync?.state === 'syncing') {
        add('replica-syncing', 'warning', `${podName(replica)} ${problem}: it does not hold all of its master's data yet.`, [replica, master])
      } else if (replica.sync?.state === 'link-down') {
        add('replica-link-down', 'warning', `${podName(replica)} ${problem}.`, [replica, master])
      }
      const [m, r] = [master.pod, replica.pod]
      if (m?.k8sNode && m.k8sNode === r?.k8sNode) {
        add('same-node', 'warning', `${podName(replica)} runs on the same Kubernetes node as its master ${podName(master)} (${m.k8sNode}).`, [master, replica])
      } else if (m?.zone && m.zone === r?.zone) {
        add('same-zone', 'warning', `${podName(replica)} runs in the same zone as its master ${podName(master)} (${m.zone}).`, [master, replica])
      }
    }
  }

  const crowded = crowdedK8sNode(masters, nodes)
  if (crowded) {
    const {k8sNode, together, evenShare} = crowded
    const unavoidable = evenShare === undefined ? '' :
      ` No spread over these Kubernetes nodes avoids that, but an even one puts at most ${evenShare} on a node and loses fewer shards with it.`
    // The pods are the finding's own column: the message names only the ones its advice needs.
    add('masters-on-one-node', 'warning', `${together.length} of the ${masters.length} masters run on Kubernetes node ${k8sNode}: if it goes down, the masters left are too few to vote their replicas in, and their slots stay down.${unavoidable} ${spreadAdvice(together, masters, replicasOf)}`, together)
  }

  const slotless = slotlessMasters(topology)
  if (slotless.length > 0) {
    add('master-without-slots', 'warning', `${names(slotless)} ${slotless.length === 1 ? 'is a master' : 'are masters'} without slots, serving nothing: redisctl slots rebalance --use-empty-masters gives ${slotless.length === 1 ? 'it a share' : 'them shares'}, redisctl node del removes ${slotless.length === 1 ? 'it' : 'them'}.`, slotless)
  }
  const threshold = options.balanceThresholdPercent ?? 2
  const even = SLOT_COUNT / masters.length
  const unbalanced = masters.filter((m) => (Math.abs(m.slotCount - even) / even) * 100 > threshold)
  if (unbalanced.length > 0) {
    add('slots-unbalanced', 'warning', `Slots are unbalanced (even share ${Math.round(even)}): ${unbalanced.map((m) => `${podName(m)} has ${m.slotCount}`).join(', ')}.`, unbalanced)
  }
  const noMigration = replicaMigrationOff(topology)
  if (noMigration.length > 0) {
    add('replica-migration-off', 'warning', `Replica migration is off on ${names(noMigration)}: a scale in or slot move that was interrupted leaves it so, and a master that loses its replicas gets no spare one. Run that command again to finish it, or redisctl repair.`, noMigration)
  }
  const configured = options.configuredNodeTimeoutMs
  const shortened = configured === undefined ? [] : nodes.filter((n) => n.pod && n.reachable && n.nodeTimeoutMs !== undefined && n.nodeTimeoutMs < configured)
  if (shortened.length > 0) {
    add('node-timeout-lowered', 'warning', `cluster-node-timeout is below the ${configured} ms of redis.conf on ${shortened.map((n) => `${podName(n)} (${n.nodeTimeoutMs} ms)`).join(', ')}: cluster create shortens it while a new cluster forms, and one that was interrupted leaves it so; a node wrongly taken for failed may then be failed over. Run that cluster create again to finish it, or CONFIG SET cluster-node-timeout ${configured} on ${shortened.length === 1 ? 'that node' : 'those nodes'}.`, shortened)
  }
  for (const c of topology.epochCollisions) {
    add('epoch-collision', 'warning', `Masters share config epoch ${c.epoch}.`, c.ids.flatMap((id) => byId.get(id) ?? []))
  }
  return findings
}

const names = (nodes: readonly TopologyNode[]): string => nodes.map(podName).join(', ')

/** What the nodes that answered say about one that did not: all that is known of it. */
/** Why a pod did not answer, naming it once: the connection's errors already start with the pod. */
function silence(n: TopologyNode): string {
  const message = (n.error?.message ?? 'unknown error').replace(/\.$/, '')
  return message.startsWith(`${podName(n)} `) ? message : `${podName(n)} did not answer: ${message}`
}

function asOthersSeeIt(n: TopologyNode): string {
  if (!n.inCluster || !n.role) return ''
  if (n.role === 'replica') return '; the nodes that answered know it as a replica'
  return `; the nodes that answered know it as a master of ${plural(n.slotCount, 'slot')}${n.slotCount > 0 ? ` (${formatRanges(n.slots)})` : ''}`
}

/**
 * The failover that spreads crowded masters: a replica of one of them on the Kubernetes node holding the fewest
 * masters (none, when there is such a node), named with --to, since failover's own choice among the replicas in sync
 * may be the one beside another master (with one replica per master it has no other).
 */
function spreadAdvice(together: readonly TopologyNode[], masters: readonly TopologyNode[], replicasOf: ReadonlyMap<string | undefined, TopologyNode[]>): string {
  const mastersOn = (k8sNode: string): number => masters.filter((m) => m.pod?.k8sNode === k8sNode).length
  const crowded = together[0].pod!.k8sNode
  const [best] = together.flatMap((master) => (replicasOf.get(master.id) ?? [])
    .filter((r) => r.pod?.k8sNode && r.pod.k8sNode !== crowded && r.reachable)
    .map((replica) => ({master, replica, k8sNode: replica.pod!.k8sNode!})))
    .sort((a, b) => mastersOn(a.k8sNode) - mastersOn(b.k8sNode) || Number(b.replica.sync?.state === 'in-sync') - Number(a.replica.sync?.state === 'in-sync') ||
      a.replica.pod!.ordinal - b.replica.pod!.ordinal)
  if (!best) return `No replica of theirs runs on another Kubernetes node, so no failover can spread them: a replica's pod rescheduled elsewhere (kubectl delete pod) can then take one over.`
  const there = mastersOn(best.k8sNode)
  return `redisctl failover ${podName(best.master)} --to ${podName(best.replica)} moves one onto ${best.k8sNode}, which holds ${there === 0 ? 'no master' : plural(there, 'master')}.`
}

/**
 * The Kubernetes node that holds so many masters that losing it leaves fewer than a majority of them: a replica is
 * promoted only by the votes of a majority of the masters, so their shards would stay down until the node returns.
 * Where no spread over the pods' Kubernetes nodes avoids that (4 masters on 3 nodes), a node holding more than an even
 * spread would (evenShare) is the finding: it takes more shards down with it than it has to. None on one node.
 */
function crowdedK8sNode(masters: readonly TopologyNode[], nodes: readonly TopologyNode[]): {k8sNode: string; together: TopologyNode[]; evenShare?: number} | undefined {
  const k8sNodes = new Set(nodes.flatMap((n) => n.pod?.k8sNode ?? []))
  const majority = Math.floor(masters.length / 2) + 1
  const survives = (lost: number): boolean => masters.length - lost >= majority
  const evenShare = Math.ceil(masters.length / k8sNodes.size)
  const avoidable = survives(evenShare)
  const byK8sNode = Map.groupBy(masters.filter((m) => m.pod?.k8sNode), (m) => m.pod!.k8sNode!)
  const found = [...byK8sNode].find(([, together]) => (avoidable ? !survives(together.length) : together.length > evenShare))
  return found && {k8sNode: found[0], together: found[1], ...(avoidable ? {} : {evenShare})}
}

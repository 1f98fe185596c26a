import {parseClusterInfo, parseClusterNodes} from '../../src/redis/cluster-nodes.js'
import type {PodRef} from '../../src/topology/model.js'
import {type ClusterObservation, type NodeObservation, summarizeObservation} from '../../src/topology/observation.js'

/**
 * Observations for the pure planners' unit tests, written as each node's state and rendered through the same
 * CLUSTER NODES / CLUSTER INFO text and parsers that real nodes go through.
 */
export interface NodeState {
  pod: PodRef
  id: string
  replicaOf?: string
  /** As CLUSTER NODES prints them, e.g. '0-5460' or '5 7-9'. */
  slots?: string
  epoch?: number
  /** Ids this node knows besides itself; 'all' for every node given. */
  knows?: string[] | 'all'
  /** Extra flags this node's view puts on the nodes it knows, by id (e.g. {[id]: 'fail?'}). */
  sees?: Record<string, string>
  /** Addresses (host:port) this node's view holds for the nodes it knows, by id, where they differ from their pods'. */
  seesAt?: Record<string, string>
  /** Slots this node's view gives the nodes it knows, by id, where it differs from what they claim. */
  seesSlots?: Record<string, string>
  /** Nodes this node knows that are none of the pods (another cluster, or a stale address). */
  strangers?: {id: string; address: string; slots?: string; flags?: string}[]
  keys?: number
  state?: 'ok' | 'fail'
  migrating?: {slot: number; to: string}[]
  importing?: {slot: number; from: string}[]
  unreachable?: boolean
  /** cluster-allow-replica-migration; on unless said otherwise, Redis's default. */
  replicaMigration?: boolean
  /** cluster-node-timeout in ms; 5000 (redisctl's redis.conf) unless said otherwise. */
  nodeTimeoutMs?: number
  /** A replica's replication as its INFO and its master's say it: in sync unless said otherwise; a number is bytes of lag. */
  replication?: 'in-sync' | 'syncing' | 'link-down' | number
}

/** Every master's replication offset in these observations: replicas in sync have the same. */
const MASTER_OFFSET = 5000

export const pod = (ordinal: number, k8sNode?: string, zone?: string): PodRef =>
  ({pod: `redis-${ordinal}`, ordinal, ip: `10.0.0.${ordinal + 1}`, port: 6379, k8sNode, zone})

/** A 40-hex node id derived from a short name, so tests stay readable. */
export const nodeId = (name: string): string => Buffer.from(name).toString('hex').padEnd(40, '0').slice(0, 40)

export function observe(states: readonly NodeState[]): ClusterObservation {
  const byId = new Map(states.map((s) => [s.id, s]))
  const line = (s: NodeState, self: boolean, extraFlags?: string, slots = s.slots, address = `${s.pod.ip}:${s.pod.port}`): string => {
    const flags = [self ? 'myself' : '', s.replicaOf ? 'slave' : 'master', extraFlags ?? ''].filter(Boolean).join(',')
    const open = self ? [...(s.migrating ?? []).map((m) => `[${m.slot}->-${m.to}]`), ...(s.importing ?? []).map((m) => `[${m.slot}-<-${m.from}]`)] : []
    return [s.id, `${address}@${s.pod.port + 10000}`, flags, s.replicaOf ?? '-', 0, 0, s.epoch ?? 0, 'connected', ...(slots ? slots.split(' ') : []), ...open].join(' ')
  }
  const nodes: NodeObservation[] = states.map((s) => {
    const address = {host: s.pod.ip, port: s.pod.port}
    if (s.unreachable) return {address, ok: false, error: {kind: 'unreachable', message: `Redis at ${s.pod.ip}:${s.pod.port} did not answer: connect ECONNREFUSED.`}}
    const known = s.knows === 'all' ? states.map((o) => o.id).filter((id) => id !== s.id) : (s.knows ?? [])
    const text = [
      line(s, true),
      ...known.map((id) => line(byId.get(id)!, false, s.sees?.[id], s.seesSlots?.[id] ?? byId.get(id)!.slots, s.seesAt?.[id])),
      ...(s.strangers ?? []).map((x) => [x.id, `${x.address}@16379`, x.flags ?? 'master', '-', 0, 0, 1, 'connected', ...(x.slots ? [x.slots] : [])].join(' ')),
    ].join('\n')
    const parsed = parseClusterNodes(text)
    const myself = parsed[0]
    const master = s.replicaOf ? byId.get(s.replicaOf) : undefined
    const replicas = states.filter((o) => o.replicaOf === s.id)
    return {
      address,
      ok: true,
      view: {
        address,
        id: s.id,
        myself,
        nodes: parsed,
        info: parseClusterInfo(`cluster_state:${s.state ?? 'ok'}\ncluster_current_epoch:${Math.max(0, ...states.map((o) => o.epoch ?? 0))}\n`),
        keys: s.keys ?? 0,
        usedMemory: 1_000_000,
        maxMemory: 0,
        replication: master
          ? {role: 'replica', offset: replicaOffset(s), replicas: [], master: {host: master.pod.ip, port: master.pod.port,
            linkUp: s.replication === undefined || s.replication === 'in-sync' || typeof s.replication === 'number',
            syncInProgress: s.replication === 'syncing', offset: replicaOffset(s)}}
          : {role: 'master', offset: MASTER_OFFSET, replicas: replicas.filter((r) => r.replication !== 'link-down').map((r) => ({host: r.pod.ip, port: r.pod.port,
            state: r.replication === 'syncing' ? 'send_bulk' : 'online', offset: replicaOffset(r)}))},
        replicaMigration: s.replicaMigration ?? true,
        nodeTimeoutMs: s.nodeTimeoutMs ?? 5000,
      },
    }
  })
  return summarizeObservation(nodes)
}

function replicaOffset(s: NodeState): number {
  if (s.replication === 'syncing') return 0
  return MASTER_OFFSET - (typeof s.replication === 'number' ? s.replication : 0)
}

/**
 * The formed 3 x 1 cluster after redis-0, a master, lost its pod and its volume: the StatefulSet brought redis-0
 * back at a new IP as an empty node that knows no cluster, while the others still list the lost node (failed,
 * owning its slots) and redis-3 still follows it. Returns the states and the lost node's id.
 */
export function masterLostWithItsVolume(): {states: NodeState[]; lost: string} {
  const states = formedCluster()
  const lost = states[0].id
  states[0] = {pod: {...states[0].pod, ip: '10.0.1.1'}, id: nodeId('fresh')}
  const members = states.slice(1)
  for (const s of members) {
    s.knows = members.map((o) => o.id).filter((id) => id !== s.id)
    s.strangers = [{id: lost, address: '10.0.0.1:6379', slots: '0-5460', flags: 'master,fail'}]
  }
  return {states, lost}
}

/** A formed 3 x 1 cluster: masters redis-0..2 with redis-3..5 following them, on k8s nodes a, b, c, b, c, a. */
export function formedCluster(): NodeState[] {
  const pods = ['a', 'b', 'c', 'b', 'c', 'a'].map((k8sNode, i) => pod(i, k8sNode))
  const slots = ['0-5460', '5461-10922', '10923-16383']
  return pods.map((p, i) => ({
    pod: p,
    id: nodeId(`n${i}`),
    ...(i < 3 ? {slots: slots[i], epoch: i + 1} : {replicaOf: nodeId(`n${i - 3}`), epoch: i - 2}),
    knows: 'all' as const,
  }))
}

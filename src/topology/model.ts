import type {NodeAddress} from '../redis/connection.js'
import type {NodeFlag} from '../redis/cluster-nodes.js'
import {type ClusterObservation, type NodeErrorKind, type OpenSlot, type ReplicationInfo} from '../redis/observe.js'
import {countSlots, type SlotRange} from './slots.js'

/** A pod as the planners need it: where its Redis listens (the pod IP) and where Kubernetes put it. */
export interface PodRef {
  pod: string
  ordinal: number
  ip: string
  port: number
  k8sNode?: string
  zone?: string
}

/** The cluster to form: masters in order with their slots and the replicas that follow them. */
export interface ClusterLayout {
  shards: {master: PodRef; slots: SlotRange[]; replicas: PodRef[]}[]
}

/** A pod joined with its Redis node, or a cluster node that no pod answers for (then `pod` is absent). */
export interface TopologyNode {
  pod?: PodRef
  /** Where the node listens: the pod's address, or for a podless node the address other nodes still hold. */
  address: NodeAddress
  /** Unknown only for a pod whose Redis could not be asked. */
  id?: string
  reachable: boolean
  error?: {kind: NodeErrorKind; message: string}
  role?: 'master' | 'replica'
  masterId?: string
  slots: SlotRange[]
  slotCount: number
  migrating: {slot: number; to: string}[]
  importing: {slot: number; from: string}[]
  keys?: number
  usedMemory?: number
  maxMemory?: number
  configEpoch?: number
  clusterState?: 'ok' | 'fail'
  replication?: ReplicationInfo
  /** cluster-allow-replica-migration, when the node lets it be read. */
  replicaMigration?: boolean
  /** What the other nodes say about this node (fail?, fail, handshake, noaddr, nofailover), merged over their views. */
  flags: NodeFlag[]
  /** Disconnected when any other node's link to it is down. */
  link: 'connected' | 'disconnected'
  /** The node knows, or is known by, another node: it has joined a cluster. */
  inCluster: boolean
}

export interface Topology {
  pods: PodRef[]
  /** Pod nodes in pod order, then podless cluster nodes. */
  nodes: TopologyNode[]
  /** Every reachable node in the cluster sees the same owner for every slot. */
  agreed: boolean
  uncovered: SlotRange[]
  conflicts: {slots: SlotRange[]; ids: string[]}[]
  openSlots: OpenSlot[]
  currentEpoch: number
  /** Masters that share a config epoch: Redis resolves these by itself, but not while a node is down. */
  epochCollisions: {epoch: number; ids: string[]}[]
  /** Pod nodes that another node still knows at an address where they no longer answer (their pod got a new IP). */
  staleAddresses: StaleAddress[]
}

export interface StaleAddress {
  /** The node (id) whose view holds the old address. */
  viewer: string
  /** The pod node (id) it is about, now answering at its pod's address. */
  id: string
  held: NodeAddress
}

const PEER_FLAGS: readonly NodeFlag[] = ['fail?', 'fail', 'handshake', 'noaddr', 'nofailover']

/** Joins pods with what their nodes said: pods by address, cluster nodes by the id each pod's node reported. */
export function buildTopology(pods: readonly PodRef[], observation: ClusterObservation): Topology {
  const byAddress = new Map(observation.nodes.map((n) => [`${n.address.host}:${n.address.port}`, n]))
  const podNodes = pods.map((pod): TopologyNode => {
    const address = podAddress(pod)
    const seen = byAddress.get(`${pod.ip}:${pod.port}`)
    if (!seen || !seen.ok) {
      return {pod, address, reachable: false, error: seen && !seen.ok ? seen.error : {kind: 'unreachable', message: 'not observed'},
        slots: [], slotCount: 0, migrating: [], importing: [], flags: [], link: 'disconnected', inCluster: false}
    }
    const {view} = seen
    return {
      pod,
      address,
      id: view.id,
      reachable: true,
      role: view.myself.role,
      masterId: view.myself.masterId,
      slots: view.myself.slots,
      slotCount: countSlots(view.myself.slots),
      migrating: view.myself.migrating,
      importing: view.myself.importing,
      keys: view.keys,
      usedMemory: view.usedMemory,
      maxMemory: view.maxMemory,
      configEpoch: view.myself.configEpoch,
      clusterState: view.info.state,
      replication: view.replication,
      replicaMigration: view.replicaMigration,
      flags: [],
      link: 'connected',
      inCluster: view.nodes.some((n) => !n.myself && !n.flags.includes('handshake')),
    }
  })
  const nodesById = new Map(podNodes.flatMap((n) => (n.id ? [[n.id, n] as const] : [])))
  const nodesByAddress = new Map(podNodes.map((n) => [`${n.address.host}:${n.address.port}`, n]))
  const podless = new Map<string, TopologyNode>()
  const staleAddresses: StaleAddress[] = []
  for (const view of observation.views) {
    for (const line of view.nodes) {
      if (line.myself) continue
      const handshake = line.flags.includes('handshake')
      const podNode = handshake ? undefined : nodesById.get(line.id)
      if (podNode && (line.host !== podNode.address.host || line.port !== podNode.address.port)) {
        staleAddresses.push({viewer: view.id, id: line.id, held: {host: line.host, port: line.port}})
      }
      // A handshake line carries a random id; when it points at a pod it is that pod being met.
      const known = handshake ? nodesByAddress.get(`${line.host}:${line.port}`) : nodesById.get(line.id)
      const node = known ?? podless.get(line.id) ?? podless.set(line.id, {
        address: {host: line.host, port: line.port},
        id: line.id,
        reachable: false,
        role: line.role,
        masterId: line.masterId,
        slots: line.slots,
        slotCount: countSlots(line.slots),
        migrating: [],
        importing: [],
        configEpoch: line.configEpoch,
        flags: [],
        link: 'connected',
        inCluster: !handshake,
      }).get(line.id)!
      if (!handshake) node.inCluster = true
      for (const flag of line.flags) if (PEER_FLAGS.includes(flag) && !node.flags.includes(flag)) node.flags.push(flag)
      if (line.linkState === 'disconnected') node.link = 'disconnected'
    }
  }
  return {
    pods: [...pods],
    nodes: [...podNodes, ...podless.values()],
    agreed: observation.agreed,
    uncovered: observation.uncovered,
    conflicts: observation.conflicts,
    openSlots: observation.openSlots,
    currentEpoch: observation.currentEpoch,
    epochCollisions: epochCollisions(podNodes),
    staleAddresses,
  }
}

function epochCollisions(nodes: readonly TopologyNode[]): {epoch: number; ids: string[]}[] {
  const byEpoch = new Map<number, string[]>()
  for (const n of nodes) {
    if (n.role !== 'master' || !n.id || !n.configEpoch || n.slotCount === 0) continue
    byEpoch.set(n.configEpoch, [...(byEpoch.get(n.configEpoch) ?? []), n.id])
  }
  return [...byEpoch].filter(([, ids]) => ids.length > 1).map(([epoch, ids]) => ({epoch, ids}))
}

/** Where a pod's Redis listens: how Redis nodes and the CLI address it. */
export const podAddress = (pod: PodRef): NodeAddress => ({host: pod.ip, port: pod.port})

export const podName = (node: TopologyNode): string => node.pod?.pod ?? `${node.address.host}:${node.address.port} (${node.id?.slice(0, 8) ?? '?'}, no pod)`

/** Pod nodes in the cluster running with cluster-allow-replica-migration off (left so by an interrupted drain). */
export const replicaMigrationOff = (topology: Topology): TopologyNode[] =>
  topology.nodes.filter((n) => n.pod && n.reachable && n.inCluster && n.replicaMigration === false)

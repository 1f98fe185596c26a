import {addressKey, type ClusterNodeLine, type ClusterObservation, hasSayInSlotMap, isTentative, type NodeAddress, type NodeErrorKind, type NodeFlag, type OpenSlot,
  type ReplicationInfo, slotMapSignature} from './observation.js'
import {countSlots, rangesToSlots, type SlotRange, slotsToRanges} from './slots.js'
import {replicaSync, type SyncState} from './sync.js'

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
  /** Unknown only for a pod whose Redis could not be asked and that no node that answered knows at its address. */
  id?: string
  /** The node answered. A pod node that did not may still carry what the other nodes say about it (id, role, slots). */
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
  /** A replica that answered: how far it is from its master (src/topology/sync.ts). */
  sync?: SyncState
  /** cluster-allow-replica-migration, when the node lets it be read. */
  replicaMigration?: boolean
  /** cluster-node-timeout in ms, when the node lets it be read. */
  nodeTimeoutMs?: number
  /** What the other nodes say about this node (fail?, fail, handshake, noaddr, nofailover), merged over their views. */
  flags: NodeFlag[]
  /** The cluster bus as the nodes that answered see it: disconnected when any of their links to it is down; absent when none knows it. */
  link?: 'connected' | 'disconnected'
  /** The node knows, or is known by, another node: it has joined a cluster. */
  inCluster: boolean
}

export interface Topology {
  pods: PodRef[]
  /** Pod nodes in pod order, then podless cluster nodes. */
  nodes: TopologyNode[]
  /** At least one node in the cluster answered, and every one that did sees the same owner for every slot. */
  agreed: boolean
  /** Nodes in the cluster that answered, and how many of them share the most common slot map. */
  agreement: {answered: number; agreeing: number}
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
  const byAddress = new Map(observation.nodes.map((n) => [addressKey(n.address), n]))
  const podNodes = pods.map((pod): TopologyNode => {
    const address = podAddress(pod)
    const seen = byAddress.get(addressKey(address))
    if (!seen || !seen.ok) {
      return {pod, address, reachable: false, error: seen && !seen.ok ? seen.error : {kind: 'unreachable', message: 'not observed'},
        slots: [], slotCount: 0, migrating: [], importing: [], flags: [], inCluster: false}
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
      sync: replicaSync(view, observation.views),
      replicaMigration: view.replicaMigration,
      nodeTimeoutMs: view.nodeTimeoutMs,
      flags: [],
      inCluster: view.nodes.some((n) => !n.myself && !n.flags.includes('handshake')),
    }
  })
  const nodesById = new Map(podNodes.flatMap((n) => (n.id ? [[n.id, n] as const] : [])))
  const nodesByAddress = new Map(podNodes.map((n) => [addressKey(n.address), n]))
  const podless = new Map<string, TopologyNode>()
  const staleAddresses: StaleAddress[] = []
  for (const view of observation.views) {
    for (const line of view.nodes) {
      if (line.myself) continue
      const handshake = line.flags.includes('handshake')
      const podNode = handshake ? undefined : nodesById.get(line.id)
      if (podNode?.reachable && (line.host !== podNode.address.host || line.port !== podNode.address.port)) {
        staleAddresses.push({viewer: view.id, id: line.id, held: {host: line.host, port: line.port}})
      }
      // A handshake line carries a random id; when it points at a pod it is that pod being met. A pod that did not
      // answer is known to the others by its id at its address: what they say about it is all there is.
      const atPod = nodesByAddress.get(addressKey(line))
      const silentPod = !handshake && atPod && !atPod.reachable && (atPod.id ?? line.id) === line.id ? atPod : undefined
      if (silentPod) nodesById.set(line.id, silentPod)
      const known = handshake ? atPod : silentPod ?? nodesById.get(line.id)
      const node = known ?? podless.get(line.id) ?? podless.set(line.id, {
        address: {host: line.host, port: line.port},
        id: line.id,
        reachable: false,
        slots: [],
        slotCount: 0,
        migrating: [],
        importing: [],
        flags: [],
        inCluster: !handshake,
      }).get(line.id)!
      if (!node.reachable && !handshake) addHearsay(node, line)
      if (!handshake) node.inCluster = true
      for (const flag of line.flags) if (PEER_FLAGS.includes(flag) && !node.flags.includes(flag)) node.flags.push(flag)
      if (!isTentative(line)) node.link = line.linkState === 'disconnected' || node.link === 'disconnected' ? 'disconnected' : 'connected'
    }
  }
  return {
    pods: [...pods],
    nodes: [...podNodes, ...podless.values()],
    agreed: observation.agreed,
    agreement: agreement(observation),
    uncovered: observation.uncovered,
    conflicts: observation.conflicts,
    openSlots: observation.openSlots,
    currentEpoch: observation.currentEpoch,
    epochCollisions: epochCollisions(podNodes),
    staleAddresses,
  }
}

/**
 * A node that did not answer is what the others say of it. It owns every slot any of them gives it: a node is not
 * taken for slotless (and forgotten) while one view still has it own slots, such as a node that learned of it
 * only by gossip, which carries no slots.
 */
function addHearsay(node: TopologyNode, line: ClusterNodeLine): void {
  if (!node.role) Object.assign(node, {id: line.id, role: line.role, masterId: line.masterId, configEpoch: line.configEpoch})
  if (line.slots.length === 0) return
  node.slots = slotsToRanges([...new Set([...rangesToSlots(node.slots), ...rangesToSlots(line.slots)])].sort((a, b) => a - b))
  node.slotCount = countSlots(node.slots)
}

function agreement(observation: ClusterObservation): {answered: number; agreeing: number} {
  const maps = observation.views.filter(hasSayInSlotMap).map(slotMapSignature)
  const counts = new Map<string, number>()
  for (const map of maps) counts.set(map, (counts.get(map) ?? 0) + 1)
  return {answered: maps.length, agreeing: Math.max(0, ...counts.values())}
}

function epochCollisions(nodes: readonly TopologyNode[]): {epoch: number; ids: string[]}[] {
  const owners = nodes.filter((n) => n.role === 'master' && n.id && n.configEpoch && n.slotCount > 0)
  return [...Map.groupBy(owners, (n) => n.configEpoch!)].filter(([, group]) => group.length > 1).map(([epoch, group]) => ({epoch, ids: group.map((n) => n.id!)}))
}

/** Where a pod's Redis listens: how Redis nodes and the CLI address it. */
export const podAddress = (pod: PodRef): NodeAddress => ({host: pod.ip, port: pod.port, pod: pod.pod})

export const podName = (node: TopologyNode): string => node.pod?.pod ?? `${node.address.host}:${node.address.port} (${node.id?.slice(0, 8) ?? '?'}, no pod)`

/** Pod nodes in the cluster running with cluster-allow-replica-migration off (left so by an interrupted drain). */
export const replicaMigrationOff = (topology: Topology): TopologyNode[] =>
  topology.nodes.filter((n) => n.pod && n.reachable && n.inCluster && n.replicaMigration === false)

/** Pod nodes in the cluster that are masters owning no slots: new ones not yet given a share, or emptied ones. */
export const slotlessMasters = (topology: Topology): TopologyNode[] =>
  topology.nodes.filter((n) => n.pod && n.reachable && n.inCluster && n.role === 'master' && n.slotCount === 0)

/** The slots some node shows MIGRATING or IMPORTING, each once, in order: what a resumed move closes first. */
export const openSlotNumbers = (topology: Topology): number[] =>
  [...new Set(topology.openSlots.map((o) => o.slot))].sort((a, b) => a - b)

/**
 * The cluster once its open slots are closed, for planning what comes after: finishOpenSlots completes the shape
 * an interrupted move leaves (one node MIGRATING a slot it owns to one node IMPORTING it) toward the importing
 * node, so the slot goes there; every other shape is closed where its owner is. The run plans again once closed.
 */
export function afterClosingOpenSlots(topology: Topology): Topology {
  if (topology.openSlots.length === 0) return topology
  const nodes = topology.nodes.map((n) => ({...n, migrating: [], importing: []}))
  const byId = new Map(nodes.flatMap((n) => (n.id ? [[n.id, n] as const] : [])))
  for (const slot of openSlotNumbers(topology)) {
    const migrating = topology.nodes.filter((n) => n.migrating.some((m) => m.slot === slot))
    const importing = topology.nodes.filter((n) => n.importing.some((m) => m.slot === slot))
    if (migrating.length !== 1 || importing.length !== 1) continue
    const [source, target] = [byId.get(migrating[0].id!), byId.get(importing[0].id!)]
    if (!source || !target || !rangesToSlots(source.slots).includes(slot)) continue
    source.slots = slotsToRanges(rangesToSlots(source.slots).filter((s) => s !== slot))
    target.slots = slotsToRanges([...rangesToSlots(target.slots), slot].sort((a, b) => a - b))
    for (const n of [source, target]) n.slotCount = countSlots(n.slots)
  }
  return {...topology, nodes, openSlots: []}
}

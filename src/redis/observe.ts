import {addressKey, AUTH_HINT, type NodeAddress, type RedisConnector} from './connection.js'
import {AuthFailedError, PreconditionError, RedisUnreachableError, type RedisctlError} from '../errors.js'
import {type ClusterInfo, type ClusterNodeLine, isTentative, parseClusterInfo, parseClusterNodes, parseInfoFields} from './cluster-nodes.js'
import {formatRanges, SLOT_COUNT, type SlotRange} from '../topology/slots.js'
import {waitUntil} from '../util/wait.js'

/** What one node says about itself and the cluster, read in one round trip. */
export interface NodeView {
  address: NodeAddress
  id: string
  myself: ClusterNodeLine
  /** The node's whole CLUSTER NODES view, its own line included. */
  nodes: ClusterNodeLine[]
  info: ClusterInfo
  keys: number
  usedMemory: number
  /** 0 when no limit is set. */
  maxMemory: number
  replication: ReplicationInfo
  /** cluster-allow-replica-migration as the node runs it; undefined when CONFIG GET is not allowed. */
  replicaMigration?: boolean
}

export interface ReplicationInfo {
  role: 'master' | 'replica'
  /** On a replica: the master it follows and whether the replication link is up (initial sync done). */
  master?: NodeAddress & {linkUp: boolean}
  /** On a master: the replicas connected to it right now, whatever their sync state. */
  replicas: (NodeAddress & {state: string})[]
}

export type NodeErrorKind = 'unreachable' | 'loading' | 'authFailed' | 'clusterDisabled' | 'failed'

export type NodeObservation =
  | {address: NodeAddress; ok: true; view: NodeView}
  | {address: NodeAddress; ok: false; error: {kind: NodeErrorKind; message: string}}

export interface OpenSlot {
  slot: number
  /** The node (id) whose own line shows the slot open. */
  node: string
  state: 'migrating' | 'importing'
  /** The other end: target when migrating, source when importing. */
  peer: string
}

export interface ClusterObservation {
  /** One entry per address asked, in the same order; failures are kept as data for the caller to judge. */
  nodes: NodeObservation[]
  views: NodeView[]
  /** Slots as each node claims them on its own line (what `redis-cli --cluster check` trusts), by node id. */
  claims: {id: string; slots: SlotRange[]}[]
  /** Slots claimed by more than one node. */
  conflicts: {slots: SlotRange[]; ids: string[]}[]
  /** Slots no reachable node claims. */
  uncovered: SlotRange[]
  /** Every reachable node sees the same owner for every slot. */
  agreed: boolean
  openSlots: OpenSlot[]
  /** The highest cluster_current_epoch seen. */
  currentEpoch: number
}

// INFO with several sections needs Redis >= 7.0, which redisctl requires anyway (CLUSTER ADDSLOTSRANGE).
const INFO_SECTIONS = ['keyspace', 'memory', 'replication'] as const

/** Asks every node concurrently, one pipelined round trip each (after the connection exists). */
export async function observeCluster(connector: RedisConnector, addresses: readonly NodeAddress[]): Promise<ClusterObservation> {
  const nodes = await Promise.all(addresses.map((address) => observeNode(connector, address)))
  return summarizeObservation(nodes)
}

export async function observeNode(connector: RedisConnector, address: NodeAddress): Promise<NodeObservation> {
  try {
    const client = await connector.client(address)
    const replies = await client.pipeline()
      .call('CLUSTER', 'NODES')
      .call('CLUSTER', 'INFO')
      .call('INFO', ...INFO_SECTIONS)
      .call('CONFIG', 'GET', 'cluster-allow-replica-migration')
      .exec()
    if (!replies) throw new Error('the pipeline was not executed')
    const [nodesReply, infoReply, serverInfo] = replies.slice(0, 3).map(([error, reply]) => {
      if (error) throw error
      return String(reply)
    })
    const [configError, config] = replies[3]
    const replicaMigration = configError ? undefined : (config as string[])[1] === 'yes'
    return {address, ok: true, view: {...toView(address, parseClusterNodes(nodesReply), parseClusterInfo(infoReply), serverInfo), replicaMigration}}
  } catch (error) {
    return {address, ok: false, error: classify(error)}
  }
}

function toView(address: NodeAddress, nodes: ClusterNodeLine[], info: ClusterInfo, serverInfo: string): NodeView {
  const myself = nodes.find((n) => n.myself)
  if (!myself) throw new Error('CLUSTER NODES has no line flagged myself')
  const fields = parseInfoFields(serverInfo)
  let keys = 0
  for (const [key, value] of fields) {
    if (/^db\d+$/.test(key)) keys += Number(/keys=(\d+)/.exec(value)?.[1] ?? 0)
  }
  return {
    address,
    id: myself.id,
    myself,
    nodes,
    info,
    keys,
    usedMemory: Number(fields.get('used_memory') ?? 0),
    maxMemory: Number(fields.get('maxmemory') ?? 0),
    replication: parseReplication(fields),
  }
}

function parseReplication(fields: Map<string, string>): ReplicationInfo {
  const replicas: ReplicationInfo['replicas'] = []
  for (const [key, value] of fields) {
    if (!/^slave\d+$/.test(key)) continue
    const attrs = new Map(value.split(',').map((kv) => kv.split('=') as [string, string]))
    replicas.push({host: attrs.get('ip') ?? '', port: Number(attrs.get('port')), state: attrs.get('state') ?? ''})
  }
  if (fields.get('role') !== 'slave') return {role: 'master', replicas}
  return {
    role: 'replica',
    master: {host: fields.get('master_host') ?? '', port: Number(fields.get('master_port')), linkUp: fields.get('master_link_status') === 'up'},
    replicas,
  }
}

function classify(error: unknown): {kind: NodeErrorKind; message: string} {
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof Error && error.name === 'AuthFailedError') return {kind: 'authFailed', message}
  // Also when the connection's own handshake met it, so before the unreachable case.
  if (/\bLOADING Redis is loading\b/.test(message)) return {kind: 'loading', message}
  if (error instanceof Error && error.name === 'RedisUnreachableError') return {kind: 'unreachable', message}
  if (/cluster support disabled/i.test(message)) return {kind: 'clusterDisabled', message}
  if (/NOAUTH|WRONGPASS/.test(message)) return {kind: 'authFailed', message}
  if (/ECONNREFUSED|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|Connection is closed|timed out/i.test(message)) return {kind: 'unreachable', message}
  return {kind: 'failed', message}
}

/** Merges the nodes' answers: who claims which slots, conflicts, coverage, agreement, open slots. */
export function summarizeObservation(nodes: NodeObservation[]): ClusterObservation {
  const views = nodes.flatMap((n) => (n.ok ? [n.view] : []))
  const {claimed, contested, uncovered} = groupClaims(views)
  // A node alone that claims nothing (new, or reset on its way out) has no say in the slot map; it is not in a cluster.
  const signatures = new Set(views.filter((v) => v.nodes.length > 1 || v.myself.slots.length > 0).map(slotMapSignature))
  return {
    nodes,
    views,
    claims: claimed.map(({ids, slots}) => ({id: ids[0], slots})),
    conflicts: contested.map(({ids, slots}) => ({slots, ids})),
    uncovered,
    agreed: signatures.size <= 1,
    openSlots: views.flatMap((v) => [
      ...v.myself.migrating.map((m) => ({slot: m.slot, node: v.id, state: 'migrating' as const, peer: m.to})),
      ...v.myself.importing.map((m) => ({slot: m.slot, node: v.id, state: 'importing' as const, peer: m.from})),
    ]),
    currentEpoch: Math.max(0, ...views.map((v) => v.info.currentEpoch)),
  }
}

interface ClaimGroup {
  ids: string[]
  slots: SlotRange[]
  /** When a slot of the group was first met, going through the views in order: the groups keep that order. */
  firstSeen: number
}

/**
 * The slots by the set of nodes that claim them on their own lines (one node, or several: a conflict), and the slots
 * nobody claims. Slot by slot, but with no work per slot beyond a comparison: status pays for it on every run (a
 * Map, an array and a joined string per slot took ~0.1 s).
 */
function groupClaims(views: NodeView[]): {claimed: ClaimGroup[]; contested: ClaimGroup[]; uncovered: SlotRange[]} {
  const owner: Array<string | undefined> = new Array(SLOT_COUNT)
  const others = new Map<number, string[]>()
  const firstSeen = new Int32Array(SLOT_COUNT)
  let seen = 0
  for (const view of views) {
    for (const {start, end} of view.myself.slots) {
      for (let slot = start; slot <= end; slot++) {
        if (owner[slot] === undefined) {
          owner[slot] = view.id
          firstSeen[slot] = seen++
        } else {
          others.set(slot, [...(others.get(slot) ?? [owner[slot]!]), view.id])
        }
      }
    }
  }
  const groups = new Map<string, ClaimGroup>()
  const uncovered: SlotRange[] = []
  const extend = (ranges: SlotRange[], slot: number): void => {
    const last = ranges.at(-1)
    if (last && last.end === slot - 1) last.end = slot
    else ranges.push({start: slot, end: slot})
  }
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const single = owner[slot]
    if (single === undefined) {
      extend(uncovered, slot)
      continue
    }
    const ids = others.get(slot)
    const key = ids ? ids.join(',') : single
    const group = groups.get(key) ?? groups.set(key, {ids: ids ?? [single], slots: [], firstSeen: firstSeen[slot]}).get(key)!
    group.firstSeen = Math.min(group.firstSeen, firstSeen[slot])
    extend(group.slots, slot)
  }
  const ordered = [...groups.values()].sort((a, b) => a.firstSeen - b.firstSeen)
  return {claimed: ordered.filter((g) => g.ids.length === 1), contested: ordered.filter((g) => g.ids.length > 1), uncovered}
}

/** The typed error for a node that could not be observed, for callers that cannot go on without it. */
export function observationError(node: Extract<NodeObservation, {ok: false}>): RedisctlError {
  const where = addressKey(node.address)
  switch (node.error.kind) {
    case 'authFailed':
      return new AuthFailedError(node.error.message, [AUTH_HINT])
    case 'clusterDisabled':
      return new PreconditionError(`Redis at ${where} runs without cluster support.`, ['Set cluster-enabled yes in its redis.conf.'])
    case 'unreachable':
      return new RedisUnreachableError(node.error.message, ['Check that the pod is Running and Ready (redisctl status, kubectl get pods -o wide).'])
    case 'loading':
      return new RedisUnreachableError(`Redis at ${where} is still loading its data from disk.`, ['Wait until it has loaded (redisctl status), then run the same command again.'])
    case 'failed':
      return new RedisUnreachableError(`Redis at ${where} could not be observed: ${node.error.message}`)
  }
}

/**
 * Waits while any node is still loading its data set: a pod whose readiness probe only opens a TCP connection is
 * Ready before Redis answers anything but LOADING. Any other failure to answer is thrown at once.
 */
export async function waitWhileLoading(connector: RedisConnector, addresses: readonly NodeAddress[], timeoutMs: number): Promise<void> {
  await waitUntil('Redis to finish loading its data on every pod', async () => {
    const observation = await observeCluster(connector, addresses)
    const loading: string[] = []
    for (const node of observation.nodes) {
      if (node.ok) continue
      if (node.error.kind !== 'loading') throw observationError(node)
      loading.push(addressKey(node.address))
    }
    return loading.length === 0 ? {done: true, value: undefined} : {done: false, missing: `still loading: ${loading.join(', ')}`}
  }, {timeoutMs, intervalMs: 100})
}

/** Who owns which slots in one node's view, as a comparable string (redis-cli's "config signature"). */
export function slotMapSignature(view: NodeView): string {
  return view.nodes
    .filter((n) => n.slots.length > 0 && !isTentative(n))
    .map((n) => `${n.id}:${formatRanges(n.slots)}`)
    .sort()
    .join('|')
}

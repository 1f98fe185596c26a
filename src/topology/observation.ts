import {AUTH_HINT, AuthFailedError, PreconditionError, RedisUnreachableError, type RedisctlError} from '../errors.js'
import {formatRanges, SLOT_COUNT, type SlotRange} from './slots.js'

/**
 * What the nodes said, as data: the observation model that src/redis/ fills (CLUSTER NODES, CLUSTER INFO, INFO)
 * and the planners read. Nothing here talks to Redis.
 */

/** Where a Redis node listens, as the cluster knows it (the pod IP, never a forwarded port). */
export interface NodeAddress {
  host: string
  port: number
  /** The pod at this address, when known: errors name it. */
  pod?: string
}

/** `redis-cluster-3 (10.1.2.3:6379)`, or `Redis at 10.1.2.3:6379` when no pod is known. */
export const describeNode = (addr: NodeAddress): string => (addr.pod ? `${addr.pod} (${addressKey(addr)})` : `Redis at ${addressKey(addr)}`)

export const addressKey = (addr: NodeAddress): string => `${addr.host}:${addr.port}`

/** The flags CLUSTER NODES prints; `fail?` is PFAIL (suspected by this node), `fail` is agreed by a majority. */
export type NodeFlag = 'myself' | 'master' | 'slave' | 'fail?' | 'fail' | 'handshake' | 'noaddr' | 'nofailover' | 'noflags'

/** One line of CLUSTER NODES: how the answering node sees one node of the cluster (itself included). */
export interface ClusterNodeLine {
  id: string
  /** Empty while the node has not learned its own address (a fresh node reports `:6379@16379`). */
  host: string
  port: number
  busPort: number
  hostname?: string
  flags: NodeFlag[]
  myself: boolean
  role: 'master' | 'replica'
  masterId?: string
  pingSentMs: number
  pongReceivedMs: number
  configEpoch: number
  linkState: 'connected' | 'disconnected'
  slots: SlotRange[]
  /** Only on the answering node's own line: slots it is handing over, and to whom. */
  migrating: {slot: number; to: string}[]
  /** Only on the answering node's own line: slots it is taking over, and from whom. */
  importing: {slot: number; from: string}[]
}

/** A node that the answering node does not really know yet (or no longer can reach by address). */
export const isTentative = (node: ClusterNodeLine): boolean => node.flags.includes('handshake') || node.flags.includes('noaddr')

/** CLUSTER INFO's `key:value` lines, with the fields redisctl reasons on typed. */
export interface ClusterInfo {
  state: 'ok' | 'fail'
  slotsAssigned: number
  slotsOk: number
  slotsPfail: number
  slotsFail: number
  knownNodes: number
  size: number
  currentEpoch: number
  myEpoch: number
}

/** INFO replication, as far as the sync state of a replica needs it. */
export interface ReplicationInfo {
  role: 'master' | 'replica'
  /** master_repl_offset: how far this node's replication stream has gone (on a master, what its replicas must reach). */
  offset: number
  /** On a replica: the master it follows, whether the link is up, whether a full sync is under way, and its slave_repl_offset. */
  master?: NodeAddress & {linkUp: boolean; syncInProgress: boolean; offset: number}
  /** On a master: the replicas connected to it right now (state: wait_bgsave, send_bulk, online), with the offset each acknowledged. */
  replicas: (NodeAddress & {state: string; offset: number})[]
}

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
  /** cluster-node-timeout as the node runs it, in ms; undefined when CONFIG GET is not allowed. */
  nodeTimeoutMs?: number
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
  /**
   * Slots nobody claims: no node that answered claims them on its own line, and no answering node's view gives
   * them to a node that did not answer (those have an owner, which is named as not answering instead).
   */
  uncovered: SlotRange[]
  /** At least one node in a cluster answered, and every one that did sees the same owner for every slot. */
  agreed: boolean
  openSlots: OpenSlot[]
  /** The highest cluster_current_epoch seen. */
  currentEpoch: number
}

/** Merges the nodes' answers: who claims which slots, conflicts, coverage, agreement, open slots. */
export function summarizeObservation(nodes: NodeObservation[]): ClusterObservation {
  const views = nodes.flatMap((n) => (n.ok ? [n.view] : []))
  const {claimed, contested, uncovered} = groupClaims(views, ownedBySilentNodes(views))
  const signatures = new Set(views.filter(hasSayInSlotMap).map(slotMapSignature))
  return {
    nodes,
    views,
    claims: claimed.map(({ids, slots}) => ({id: ids[0], slots})),
    conflicts: contested.map(({ids, slots}) => ({slots, ids})),
    uncovered,
    agreed: signatures.size === 1,
    openSlots: views.flatMap((v) => [
      ...v.myself.migrating.map((m) => ({slot: m.slot, node: v.id, state: 'migrating' as const, peer: m.to})),
      ...v.myself.importing.map((m) => ({slot: m.slot, node: v.id, state: 'importing' as const, peer: m.from})),
    ]),
    currentEpoch: Math.max(0, ...views.map((v) => v.info.currentEpoch)),
  }
}

/** Slots that a view of a node that answered gives to a node that did not: they have an owner, which is named as silent instead. */
function ownedBySilentNodes(views: readonly NodeView[]): Uint8Array {
  const answered = new Set(views.map((v) => v.id))
  const owned = new Uint8Array(SLOT_COUNT)
  for (const view of views) {
    for (const line of view.nodes) {
      if (line.myself || answered.has(line.id) || isTentative(line)) continue
      for (const {start, end} of line.slots) owned.fill(1, start, end + 1)
    }
  }
  return owned
}

interface ClaimGroup {
  ids: string[]
  slots: SlotRange[]
  /** When a slot of the group was first met, going through the views in order: the groups keep that order. */
  firstSeen: number
}

/**
 * The slots by the set of nodes that claim them on their own lines (one node, or several: a conflict), and the slots
 * nobody claims (`ownedElsewhere` marks those a silent node owns). Slot by slot, but with no work per slot beyond a
 * comparison: status pays for it on every run (a Map, an array and a joined string per slot took ~0.1 s).
 */
function groupClaims(views: readonly NodeView[], ownedElsewhere: Uint8Array): {claimed: ClaimGroup[]; contested: ClaimGroup[]; uncovered: SlotRange[]} {
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
      if (!ownedElsewhere[slot]) extend(uncovered, slot)
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

/** A node alone that claims nothing (new, or reset on its way out) has no say in the slot map: it is not in a cluster. */
export const hasSayInSlotMap = (view: NodeView): boolean => view.nodes.length > 1 || view.myself.slots.length > 0

/** Who owns which slots in one node's view, as a comparable string (redis-cli's "config signature"). */
export function slotMapSignature(view: NodeView): string {
  return view.nodes
    .filter((n) => n.slots.length > 0 && !isTentative(n))
    .map((n) => `${n.id}:${formatRanges(n.slots)}`)
    .sort()
    .join('|')
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

import {addressKey, type NodeAddress, type ReplicationInfo} from './observation.js'

/**
 * How far a replica is from its master, from both nodes' INFO replication read in the same observation:
 * - in-sync: the link is up, no sync is under way and the replica has every byte the master has sent;
 * - syncing: a first or full sync is under way (the master prepares or sends its snapshot; Redis 7.0 delays a
 *   diskless one by repl-diskless-sync-delay, 5 s), so the replica holds none or part of the data;
 * - link-down: the replica cannot reach its master and no sync is under way;
 * - lagging: the link is up but the replica has not yet applied the last `bytes` the master sent (normal for a moment under writes);
 * - unconfirmed: the link is up but the master did not answer, so the offsets could not be compared.
 */
export type SyncState =
  | {state: 'in-sync'}
  | {state: 'syncing'}
  | {state: 'link-down'}
  | {state: 'lagging'; bytes: number}
  | {state: 'unconfirmed'}

/** What the sync state needs of a node: where it listens and its INFO replication. */
export interface ReplicationSide {
  address: NodeAddress
  replication: ReplicationInfo
}

export interface SyncOptions {
  /**
   * The master's offset in an earlier observation: a replica that has reached it holds everything the master had
   * then. Under steady writes the two offsets are seldom equal at the same instant, so waits compare with this.
   */
  masterOffsetBefore?: number
}

/**
 * The replica's sync state against the master it replicates from (by INFO's master_host/master_port); undefined for
 * a master. The one rule of "in sync": the link is up, no sync is in progress and the replica's offset has caught
 * up, with its master's offset now or with `masterOffsetBefore`.
 */
export function syncState(replica: ReplicationSide, master: ReplicationSide | undefined, options: SyncOptions = {}): SyncState | undefined {
  const link = replica.replication.master
  if (replica.replication.role !== 'replica' || !link) return undefined
  const seenByMaster = master?.replication.replicas.find((r) => r.host === replica.address.host && r.port === replica.address.port)
  if (link.syncInProgress || (seenByMaster && seenByMaster.state !== 'online')) return {state: 'syncing'}
  if (!link.linkUp) return {state: 'link-down'}
  if (!master) return {state: 'unconfirmed'}
  const bytes = master.replication.offset - link.offset
  if (bytes <= 0 || (options.masterOffsetBefore !== undefined && link.offset >= options.masterOffsetBefore)) return {state: 'in-sync'}
  return {state: 'lagging', bytes}
}

/** Each node's replication offset in one observation, by address: what its replicas had to reach then. */
export function offsetsByAddress(nodes: Iterable<{address: NodeAddress; replication?: ReplicationInfo}>): Map<string, number> {
  return new Map([...nodes].flatMap((n) => (n.replication ? [[addressKey(n.address), n.replication.offset] as const] : [])))
}

/** A node as an observation holds it: replication is missing when it did not answer. */
interface ObservedSide {
  address: NodeAddress
  replication?: ReplicationInfo
}

/**
 * A replica's sync state among the nodes of one observation, its master found by the address its INFO names, and
 * (`earlier`, from offsetsByAddress) caught up with the offset its master had at an earlier observation: a wait that
 * runs while clients write needs that, because the two offsets, read one after the other, are seldom equal.
 * Undefined for a master, and for a node that did not answer.
 */
export function replicaSync(replica: ObservedSide, nodes: Iterable<ObservedSide>, earlier?: ReadonlyMap<string, number>): SyncState | undefined {
  const {replication} = replica
  if (!replication?.master) return undefined
  const master = replicationMaster(replication.master, nodes)
  return syncState({address: replica.address, replication}, master, {masterOffsetBefore: earlier?.get(addressKey(replication.master))})
}

/** The answering node at `link`, the address a replica's INFO names as its master's. */
function replicationMaster(link: NodeAddress, nodes: Iterable<ObservedSide>): ReplicationSide | undefined {
  for (const {address, replication} of nodes) if (replication && address.host === link.host && address.port === link.port) return {address, replication}
  return undefined
}

/** Why a replica is not in sync with its master (named), in words that follow the replica's name; undefined when it is. */
export function syncProblem(sync: SyncState, master: string): string | undefined {
  switch (sync.state) {
    case 'in-sync':
      return undefined
    case 'syncing':
      return `is still in its first or full sync with its master ${master}`
    case 'link-down':
      return `cannot reach its master ${master} (replication link down)`
    case 'lagging':
      return `lags ${sync.bytes} bytes behind its master ${master}`
    case 'unconfirmed':
      return `could not be compared with its master ${master}, which did not answer`
  }
}

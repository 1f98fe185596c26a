import type {Redis} from 'ioredis'

import {PreconditionError} from '../errors.js'
import {throwIfInterrupted} from '../util/interrupt.js'
import {addressKey, type NodeAddress, type RedisConnector} from './connection.js'
import {drainSlots} from './migrate-keys.js'
import {setSlots} from './slot-scripts.js'

/** A master by its cluster ID and the address the cluster knows it by. */
export interface MasterRef {
  id: string
  address: NodeAddress
}

export interface MigrateOptions {
  /** The other masters, told the new owner right away so that clients are not redirected twice. */
  otherMasters?: readonly MasterRef[]
  /** Keys per GETKEYSINSLOT/MIGRATE (redis-cli uses 10). */
  keysPerMigrate?: number
  /** Slots opened, drained and closed together: their SETSLOTs share one script and one config save per node. */
  slotsPerBatch?: number
  /** Slots drained at once within a batch. */
  slotsInFlight?: number
  /** MIGRATE timeout for a full batch of keys; retries after I/O errors double it. */
  migrateTimeoutMs?: number
  /** Stops opening batches of slots: the batches already open are drained and closed, so no slot is left open. */
  signal?: AbortSignal
  onProgress?: (progress: MoveProgress) => void
}

export interface MoveProgress {
  slotsDone: number
  slotsTotal: number
  keysMoved: number
}

export const MIGRATE_DEFAULTS = {keysPerMigrate: 500, slotsPerBatch: 256, slotsInFlight: 64, migrateTimeoutMs: 10_000}

/**
 * Moves the slots from source to target with redis-cli's protocol (clusterManagerMoveSlot), batched: for a
 * batch of slots, SETSLOT IMPORTING on the target, then MIGRATING on the source, keys moved with
 * GETKEYSINSLOT + MIGRATE, then SETSLOT NODE on the target, the source and every other master. Slots the target
 * already owns (an earlier run got that far) are only closed, so calling again after an interruption resumes.
 */
export async function migrateSlots(connector: RedisConnector, source: MasterRef, target: MasterRef, slots: readonly number[],
  options: MigrateOptions = {}): Promise<MoveProgress> {
  const settings = {
    keysPerMigrate: options.keysPerMigrate ?? MIGRATE_DEFAULTS.keysPerMigrate,
    slotsPerBatch: options.slotsPerBatch ?? MIGRATE_DEFAULTS.slotsPerBatch,
    slotsInFlight: options.slotsInFlight ?? MIGRATE_DEFAULTS.slotsInFlight,
    migrateTimeoutMs: options.migrateTimeoutMs ?? MIGRATE_DEFAULTS.migrateTimeoutMs,
  }
  const progress: MoveProgress = {slotsDone: 0, slotsTotal: slots.length, keysMoved: 0}
  if (slots.length === 0) return progress
  throwIfInterrupted(options.signal)
  const [sourceClient, targetClient] = await Promise.all([connector.client(source.address, 'migration'), connector.client(target.address, 'migration')])
  const move: Move = {connector, source, target, sourceClient, targetClient, settings, options, progress}
  const batches: number[][] = []
  for (let i = 0; i < slots.length; i += settings.slotsPerBatch) batches.push(slots.slice(i, i + settings.slotsPerBatch))

  // Three batches in flight: while one drains (the source busy with MIGRATE), the next one opens and the
  // previous one closes, so the SETSLOT round trips and config saves hide behind the key moves. Once the signal
  // fires no batch is opened, and the ones open are finished: a stop leaves every slot with one owner.
  let opened = await openBatch(move, batches[0])
  for (let k = 0; ; k++) {
    const more = k + 1 < batches.length && !options.signal?.aborted
    const [, next] = await allOrFirstError([
      drainBatch(move, opened),
      more ? openBatch(move, batches[k + 1]) : Promise.resolve([]),
      k > 0 ? closeBatch(move, batches[k - 1]) : Promise.resolve(),
    ] as const)
    if (!more) {
      await closeBatch(move, batches[k])
      break
    }
    opened = next
  }
  if (progress.slotsDone < slots.length) throwIfInterrupted(options.signal)
  return progress
}

interface Move {
  connector: RedisConnector
  source: MasterRef
  target: MasterRef
  sourceClient: Redis
  targetClient: Redis
  settings: typeof MIGRATE_DEFAULTS
  options: MigrateOptions
  progress: MoveProgress
}

/** Opens the slots of a batch on both sides; returns the ones to drain (the target may own some already). */
async function openBatch({source, target, sourceClient, targetClient}: Move, batch: readonly number[]): Promise<number[]> {
  // The target imports before the source migrates, so no client is sent (ASK) to a node not yet importing.
  const importing = await setSlots(targetClient, target.address, batch, 'IMPORTING', source.id)
  const open: number[] = []
  for (const [i, reply] of importing.entries()) {
    if (reply.ok) open.push(batch[i])
    else if (!/already the owner/.test(reply.error.message)) throw refused(target, `SETSLOT ${batch[i]} IMPORTING`, reply.error)
  }
  const migrating = await setSlots(sourceClient, source.address, open, 'MIGRATING', target.id)
  const notOwned = open.filter((_, i) => !migrating[i].ok)
  if (notOwned.length > 0) {
    await setSlots(targetClient, target.address, notOwned, 'STABLE')
    const reply = migrating.find((r) => !r.ok) as {error: Error}
    throw new PreconditionError(`${addressKey(source.address)} cannot hand over ${notOwned.length} slot(s) (first: ${notOwned[0]}): ${reply.error.message}`, [
      'Observe the cluster again (redisctl status) and plan from what each master owns now.',
    ])
  }
  return open
}

async function drainBatch({connector, source, target, sourceClient, settings, options, progress}: Move, open: readonly number[]): Promise<void> {
  // While a slot is MIGRATING, a key that still exists on the source is read and written there only (clients
  // are sent to the target just for keys the source no longer has). A copy already on the target can then only
  // be a leftover of an earlier interrupted MIGRATE, never a newer write: the source's copy wins (REPLACE).
  await drainSlots(sourceClient, open, {
    source: source.address, target: target.address, credentials: connector.credentials, keysPerCall: settings.keysPerMigrate,
    slotsInFlight: settings.slotsInFlight, timeoutMs: settings.migrateTimeoutMs, replaceOnBusyKey: true,
    onKeysMoved: (count) => {
      progress.keysMoved += count
      options.onProgress?.({...progress})
    },
  })
}

async function closeBatch({connector, source, target, sourceClient, targetClient, options, progress}: Move, batch: readonly number[]): Promise<void> {
  const owned = async (client: Redis, node: MasterRef, tolerated?: RegExp): Promise<void> => {
    for (const reply of await setSlots(client, node.address, batch, 'NODE', target.id)) {
      if (!reply.ok && !tolerated?.test(reply.error.message)) throw refused(node, 'CLUSTER SETSLOT NODE', reply.error)
    }
  }
  // The target learns first: if it crashed before owning the slot while others already pointed at it, the slot
  // would have no owner and clients would loop between redirections (redis#7116).
  await owned(targetClient, target)
  await Promise.all([
    // A source that has just given away its last slot may already have turned itself into a replica of the
    // target (cluster-allow-replica-migration); it then refuses SETSLOT, and gossip brings it the news anyway.
    owned(sourceClient, source, /only with masters/),
    // The others are told too, so that clients are not redirected through a master that has not heard yet.
    ...(options.otherMasters ?? []).map(async (m) => owned(await connector.client(m.address), m)),
  ])
  progress.slotsDone += batch.length
  options.onProgress?.({...progress})
}

/** Like Promise.all, but waits for every promise to settle before throwing the first error, so nothing runs on. */
async function allOrFirstError<T extends readonly unknown[]>(promises: {[K in keyof T]: Promise<T[K]>}): Promise<T> {
  const results = await Promise.allSettled(promises)
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) throw failed.reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T
}

function refused(node: MasterRef, what: string, error: Error): PreconditionError {
  return new PreconditionError(`Redis at ${addressKey(node.address)} refused ${what}: ${error.message}`, [
    'Every master must know every other one (redisctl check); wait for the cluster to agree, then run the command again.',
  ])
}


import type {Redis} from 'ioredis'

import {PreconditionError, RedisUnreachableError} from '../errors.js'
import {type Arg, commandFailed, isReplyError, pipelined, pipelinedOk} from './commands.js'
import {forEachConcurrently} from './concurrency.js'
import {addressKey, type NodeAddress} from './connection.js'
import {type Credentials, migrateAuth} from './credentials.js'
import {DRAIN, DRAIN_BUDGET_US, runScript} from './slot-scripts.js'

export interface DrainOptions {
  source: NodeAddress
  target: NodeAddress
  credentials?: Credentials
  /** Keys fetched by one GETKEYSINSLOT and carried by one MIGRATE. */
  keysPerCall: number
  /**
   * Slots drained at once: two DRAIN calls of half as many slots queued on the source, or, on the command path,
   * two waves whose GETKEYSINSLOT and MIGRATE calls are pipelined on the source's connection.
   */
  slotsInFlight: number
  /** MIGRATE's timeout for a full batch; doubled on each retry after an I/O error, up to 16 times this value. */
  timeoutMs: number
  /**
   * Answer BUSYKEY by migrating again with REPLACE. Only right while the slot is MIGRATING on the source
   * (see drainBatch in migrate-slots.ts); a cold move out of a stray node must not overwrite the owner's keys.
   */
  replaceOnBusyKey: boolean
  onKeysMoved?: (count: number) => void
}

/** Passes over the slots before concluding that something keeps writing into them on the source. */
const MAX_PASSES = 10

/**
 * Moves every key of the slots from source to target; values never pass through the CLI, MIGRATE carries them
 * node to node. The source runs the moves itself (DRAIN, slot-scripts.ts); for any slot the script leaves over,
 * and on a node that refuses scripts, keys pass through the CLI a wave at a time (at most slotsInFlight x
 * keysPerCall of them): a slot is done when a GETKEYSINSLOT comes back short, and one pipelined COUNTKEYSINSLOT
 * per pass then confirms every slot empty.
 */
export async function drainSlots(client: Redis, slots: readonly number[], options: DrainOptions): Promise<void> {
  const perWave = Math.max(1, Math.ceil(options.slotsInFlight / 2))
  let pending = await drainByScript(client, slots, perWave, options)
  for (let pass = 0; pending.length > 0; pass++) {
    if (pass === MAX_PASSES) {
      throw new PreconditionError(`Keys keep appearing in ${pending.length} slot(s) of ${addressKey(options.source)} while they are being moved.`, [
        'Check that no client writes to the source node without following ASK redirections.',
      ])
    }
    const waves: number[][] = []
    for (let i = 0; i < pending.length; i += perWave) waves.push(pending.slice(i, i + perWave))
    // Two waves in flight: the source works through one wave's MIGRATEs while the other's keys are fetched.
    await forEachConcurrently(waves, 2, (wave) => drainWave(client, wave, options))
    const counts = await keysPerSlot(client, options.source, pending)
    pending = pending.filter((_, i) => counts[i] > 0)
  }
}

/**
 * Drains the slots with the DRAIN script, two calls queued on the source so that it never waits for the CLI.
 * Returns the slots left to the commands: all of them on a node that refuses scripts, else those whose MIGRATE
 * the script could not complete (BUSYKEY, an I/O error, keys that vanished, a target that wants a password).
 *
 * The script's MIGRATE carries no password: a script's arguments show unredacted in SLOWLOG and MONITOR, where
 * MIGRATE's own AUTH is hidden. On a cluster with a password, the script's first MIGRATE is refused (NOAUTH); the
 * CLI moves that slot at once with MIGRATE ... AUTH (or AUTH2), and the source keeps that connection to the target,
 * authenticated, for its next MIGRATEs (Redis caches it while it is used and closes it after 10 s idle). Should it
 * be closed, the next refusal sends one more slot through the CLI, which authenticates a new one.
 */
async function drainByScript(client: Redis, slots: readonly number[], perCall: number, options: DrainOptions): Promise<number[]> {
  const left: number[] = []
  const calls: number[][] = []
  for (let i = 0; i < slots.length; i += perCall) calls.push(slots.slice(i, i + perCall))
  const {host, port} = options.target
  await forEachConcurrently(calls, 2, async (call) => {
    let rest = call
    while (rest.length > 0) {
      const reply = await runScript(client, options.source, DRAIN, [host, port, options.timeoutMs, options.keysPerCall, DRAIN_BUDGET_US, ...rest]) as
        [number, number, number?] | undefined
      if (!reply) {
        left.push(...rest)
        return
      }
      const [moved, finished, stuck] = reply
      if (moved > 0) options.onKeysMoved?.(moved)
      if (stuck) {
        // Moved by the CLI right away, so that its MIGRATE ... AUTH authenticates the connection the script's
        // next MIGRATEs take; drainSlots then passes over the slot once more and counts it empty.
        left.push(rest[finished])
        await drainWave(client, [rest[finished]], options)
      }
      rest = rest.slice(finished + (stuck ? 1 : 0))
    }
  })
  return left
}

/** Slots counted per pipeline: COUNTKEYSINSLOT costs the node nothing, but one pipeline of every slot would be 16384 replies at once. */
const SLOTS_PER_COUNT = 1024

/** The keys in each slot as the node holds them now (CLUSTER COUNTKEYSINSLOT), in the order of `slots`. */
export async function keysPerSlot(client: Redis, address: NodeAddress, slots: readonly number[]): Promise<number[]> {
  const counts: number[] = []
  for (let i = 0; i < slots.length; i += SLOTS_PER_COUNT) {
    const chunk = slots.slice(i, i + SLOTS_PER_COUNT).map((s) => ['CLUSTER', 'COUNTKEYSINSLOT', s])
    counts.push(...(await pipelinedOk(client, address, chunk, 'CLUSTER COUNTKEYSINSLOT')).map(Number))
  }
  return counts
}

/** One pipeline of GETKEYSINSLOT for the wave's slots, one of MIGRATE for those with keys, until every slot comes back short. */
async function drainWave(client: Redis, wave: readonly number[], options: DrainOptions): Promise<void> {
  let slots = wave
  const first = {timeoutMs: options.timeoutMs, replace: false}
  while (slots.length > 0) {
    const fetched = await pipelined(client, options.source, slots.map((s) => ['CLUSTER', 'GETKEYSINSLOT', s, options.keysPerCall]), 'buffers')
    const batches = slots.map((slot, i) => {
      const reply = fetched[i]
      if (!reply.ok) throw commandFailed(options.source, `CLUSTER GETKEYSINSLOT ${slot}`, reply.error)
      return {slot, keys: reply.value as Buffer[]}
    }).filter((b) => b.keys.length > 0)
    const migrated = await pipelined(client, options.source, batches.map((b) => migrateCommand(b.keys, options, first)))
    for (const [i, {slot, keys}] of batches.entries()) {
      const reply = migrated[i]
      if (!reply.ok) await recover(client, slot, keys, options, first, reply.error)
      options.onKeysMoved?.(keys.length)
    }
    slots = batches.filter((b) => b.keys.length === options.keysPerCall).map((b) => b.slot)
  }
}

function migrateCommand(keys: Buffer[], options: DrainOptions, attempt: {timeoutMs: number; replace: boolean}): Arg[] {
  const {host, port} = options.target
  return ['MIGRATE', host, port, '', 0, attempt.timeoutMs, ...(attempt.replace ? ['REPLACE'] : []),
    ...migrateAuth(options.credentials), 'KEYS', ...keys]
}

async function migrate(client: Redis, slot: number, keys: Buffer[], options: DrainOptions, attempt: {timeoutMs: number; replace: boolean}): Promise<void> {
  const [name, ...args] = migrateCommand(keys, options, attempt)
  try {
    await client.callBuffer(String(name), ...args)
  } catch (error) {
    if (!isReplyError(error)) throw commandFailed(options.source, `MIGRATE of slot ${slot}`, error, client)
    await recover(client, slot, keys, options, attempt, error)
  }
}

/** Answers a MIGRATE that Redis refused: BUSYKEY, or an I/O error on the way to the target. */
async function recover(client: Redis, slot: number, keys: Buffer[], options: DrainOptions, attempt: {timeoutMs: number; replace: boolean},
  error: Error): Promise<void> {
  if (/BUSYKEY/.test(error.message)) {
    if (attempt.replace || !options.replaceOnBusyKey) throw busyKeys(slot, keys, options)
    return migrate(client, slot, keys, options, {...attempt, replace: true})
  }
  // Redis bounds each 64 KB write and each reply read by the timeout: a batch of large values, or a target
  // slow to restore one, fails with IOERR. Keys not acknowledged stay on the source, so retrying is safe
  // (a copy that did land answers BUSYKEY next time). Failing to connect at all is not retried.
  const retryable = /^IOERR/.test(error.message) && !/connecting/.test(error.message)
  const timeoutMs = attempt.timeoutMs * 2
  if (retryable && timeoutMs <= options.timeoutMs * 16) {
    const half = Math.ceil(keys.length / 2)
    await migrate(client, slot, keys.slice(0, half), options, {...attempt, timeoutMs})
    if (half < keys.length) await migrate(client, slot, keys.slice(half), options, {...attempt, timeoutMs})
    return
  }
  if (/^IOERR/.test(error.message)) {
    throw new RedisUnreachableError(`${addressKey(options.source)} could not MIGRATE slot ${slot} to ${addressKey(options.target)}: ${error.message}`, [
      'Check that the nodes reach each other on their cluster addresses (pod IPs).',
    ])
  }
  throw commandFailed(options.source, `MIGRATE of slot ${slot} to ${addressKey(options.target)}`, error)
}

function busyKeys(slot: number, keys: Buffer[], options: DrainOptions): PreconditionError {
  const sample = keys.slice(0, 5).map((k) => k.toString()).join(', ')
  return new PreconditionError(
    `Keys of slot ${slot} exist both on ${addressKey(options.source)} and on ${addressKey(options.target)} (among: ${sample}).`,
    ['Compare the copies and delete the stale one, then run the command again.'],
  )
}

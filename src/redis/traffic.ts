import type {ConnectionOptions} from 'node:tls'

import {Cluster, type ClusterOptions} from 'ioredis'

import type {NodeAddress} from '../topology/observation.js'

/**
 * Live traffic: a cluster client writing and reading while the cluster changes, bounded in operations and time, that
 * proves afterwards that every acknowledged write is still there (`drill failover`, and the e2e specifications).
 *
 * Each key is written by one worker only, in sequence, so the last acknowledged value of every key is known. A write
 * that failed may or may not have been applied (its reply may be what got lost), so until a later write to the key
 * is acknowledged, its value counts as a possible outcome too.
 */

export interface TrafficOptions {
  /** Distinct keys written (traffic:0 ..), spread over the slots. */
  keys?: number
  /** The keys to write instead (each worker takes every `workers`-th), e.g. keys of one master's slots. */
  keyNames?: readonly string[]
  workers?: number
  /** All workers together; each worker sleeps between its operations to keep to it. */
  opsPerSecond?: number
  /** Delete the keys once they are read back: a drill on someone's cluster leaves none of its keys there. */
  removeKeys?: boolean
  /** Bounds after which the traffic stops by itself, whatever happens to the cluster. */
  maxOps?: number
  maxMs?: number
  /** How the client reaches the nodes (a password, TLS, a natMap); a password here is never logged. */
  connection?: TrafficConnection
}

/**
 * A node to connect to: its address, and TLS options of its own when it is verified by its own name. ioredis builds
 * each node's client from the seed or natMap answer over `redisOptions` (cluster/ConnectionPool.js), so a `tls` here
 * replaces theirs for that node.
 */
export type ClientNode = NodeAddress & {tls?: ConnectionOptions}

export interface TrafficConnection {
  /** Maps an address the nodes give (CLUSTER SLOTS, MOVED: `host:port`) to the node to connect to, or null for itself. */
  natMap?: (key: string) => ClientNode | null
  redisOptions?: ClusterOptions['redisOptions']
  /** Told of each cluster client the traffic opens (reconnect opens another), e.g. to map the nodes again when one fails. */
  watch?(cluster: Cluster): void
}

/** The longest time between two acknowledged writes, as epoch milliseconds: when writes stopped, and when they went on. */
export interface WriteGap {
  from: number
  to: number
  ms: number
}

export interface TrafficReport {
  seconds: number
  ops: number
  opsPerSecond: number
  writesAcknowledged: number
  reads: number
  /** Operations that failed as the client saw them (the worker goes on), by the error's first word. */
  errors: number
  errorKinds: Record<string, number>
  /** Reads that returned an older value than one already acknowledged. */
  staleReads: number
  /** Keys whose value read back afterwards is not the last acknowledged one: each is a lost write. */
  lost: string[]
  /** The longest time with no write acknowledged, from the start to the end of the traffic. */
  longestWriteGap: WriteGap
  /** 'caller' when the traffic ran until stop(): it then spanned the whole change. */
  stoppedBy: 'caller' | 'max-ops' | 'max-time'
}

export interface Traffic {
  /** Writes acknowledged until now. */
  writesAcknowledged(): number
  /** When the latest write was acknowledged (epoch ms), undefined before the first. */
  lastAcknowledgedAt(): number | undefined
  /** When the latest operation failed (epoch ms), undefined while none has. */
  lastFailedAt(): number | undefined
  /**
   * Goes on with other credentials (a rotated password), as an application does when its Secret changes: operations
   * from now on go through a new client, connected before the workers move to it; the old one quits once its
   * replies are in.
   */
  reconnect(redisOptions: ClusterOptions['redisOptions']): Promise<void>
  /** Stops the workers, reads every key back and closes the client. */
  stop(): Promise<TrafficReport>
}

export function startTraffic(seeds: readonly ClientNode[], options: TrafficOptions = {}): Traffic {
  const {keys = 200, workers = 4, opsPerSecond = 400, maxOps = 12_000, maxMs = 60_000, connection = {}} = options
  const names = options.keyNames ?? Array.from({length: keys}, (_, i) => `traffic:${i}`)
  const connect = (redisOptions: ClusterOptions['redisOptions']): Cluster => {
    const cluster = new Cluster(seeds.map(({host, port, tls}) => ({host, port, ...(tls ? {tls} : {})})), {
      scaleReads: 'master',
      maxRedirections: 32,
      retryDelayOnMoved: 0,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 50,
      natMap: connection.natMap,
      redisOptions: {maxRetriesPerRequest: 2, connectTimeout: 2000, commandTimeout: 2000, ...redisOptions},
    })
    connection.watch?.(cluster)
    return cluster
  }
  let cluster = connect(connection.redisOptions)
  const acknowledged = new Map<string, {seq: number; value: string}>()
  const maybe = new Map<string, Set<string>>()
  const report = {ops: 0, writesAcknowledged: 0, reads: 0, errors: 0, errorKinds: {} as Record<string, number>, staleReads: 0}
  let stoppedBy: TrafficReport['stoppedBy'] | undefined
  const started = Date.now()
  let lastAck: number | undefined
  let lastFailure: number | undefined
  let longest: WriteGap = {from: started, to: started, ms: 0}
  const pause = (workers * 1000) / opsPerSecond

  const failed = (error: unknown): void => {
    report.errors++
    lastFailure = Date.now()
    const kind = (error instanceof Error ? error.message : String(error)).split(/[\s:]/)[0] || 'unknown'
    report.errorKinds[kind] = (report.errorKinds[kind] ?? 0) + 1
  }
  const acked = (): void => {
    const now = Date.now()
    const since = lastAck ?? started
    if (now - since > longest.ms) longest = {from: since, to: now, ms: now - since}
    lastAck = now
    report.writesAcknowledged++
  }

  const worker = async (w: number): Promise<void> => {
    const mine = names.filter((_, i) => i % workers === w)
    if (mine.length === 0) return
    for (let seq = 0; ; seq++) {
      if (stoppedBy) return
      if (report.ops >= maxOps) stoppedBy = 'max-ops'
      else if (Date.now() - started >= maxMs) stoppedBy = 'max-time'
      if (stoppedBy) return
      const began = Date.now()
      const key = mine[seq % mine.length]
      report.ops++
      if (seq % 2 === 0) {
        const value = `${w}:${seq}`
        try {
          await cluster.set(key, value)
          acknowledged.set(key, {seq, value})
          maybe.delete(key)
          acked()
        } catch (error) {
          failed(error)
          maybe.set(key, (maybe.get(key) ?? new Set()).add(value))
        }
      } else {
        const read = mine[(seq * 7) % mine.length]
        const before = acknowledged.get(read)?.seq
        try {
          const got = await cluster.get(read)
          report.reads++
          if (before !== undefined && (got === null || Number(got.split(':')[1]) < before)) report.staleReads++
        } catch (error) {
          failed(error)
        }
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, pause - (Date.now() - began))))
    }
  }
  const running = Promise.all(Array.from({length: workers}, (_, w) => worker(w)))
  let stopping: Promise<TrafficReport> | undefined

  return {
    writesAcknowledged: () => report.writesAcknowledged,
    lastAcknowledgedAt: () => lastAck,
    lastFailedAt: () => lastFailure,
    async reconnect(redisOptions) {
      const next = connect({...connection.redisOptions, ...redisOptions})
      // A refused password fails here, not as traffic errors.
      await next.ping()
      const previous = cluster
      cluster = next
      await previous.quit().catch(() => previous.disconnect())
    },
    stop() {
      // Once: a second call (a caller's cleanup after a failed first) gets the same outcome, not a second read-back.
      stopping ??= finish()
      return stopping
    },
  }

  async function finish(): Promise<TrafficReport> {
    stoppedBy ??= 'caller'
    await running
    const ended = Date.now()
    const seconds = (ended - started) / 1000
    if (ended - (lastAck ?? started) > longest.ms) longest = {from: lastAck ?? started, to: ended, ms: ended - (lastAck ?? started)}
    const lost: string[] = []
    try {
      for (const [key, {value}] of acknowledged) {
        const got = await cluster.get(key)
        if (got !== value && !maybe.get(key)?.has(got ?? '')) lost.push(`${key}: acknowledged ${value}, read ${got}`)
      }
      if (options.removeKeys) await Promise.all(names.map((key) => cluster.del(key)))
    } finally {
      cluster.disconnect()
    }
    return {...report, seconds, opsPerSecond: Math.round(report.ops / seconds), lost, longestWriteGap: longest, stoppedBy: stoppedBy!}
  }
}

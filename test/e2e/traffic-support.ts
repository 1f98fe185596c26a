import {Cluster, type ClusterOptions} from 'ioredis'

/**
 * Live traffic for the scale specifications: a cluster client writing and reading while the cluster changes, bounded
 * in operations and time, that proves afterwards that every acknowledged write is still there.
 *
 * Each key is written by one worker only, in sequence, so the last acknowledged value of every key is known. A write
 * that failed may or may not have been applied (its reply may be what got lost), so until a later write to the key
 * is acknowledged, its value counts as a possible outcome too.
 */

export interface TrafficOptions {
  /** Distinct keys written (traffic:0 ..), spread over the slots. */
  keys?: number
  workers?: number
  /** All workers together; each worker sleeps between its operations to keep to it. */
  opsPerSecond?: number
  /** Bounds after which the traffic stops by itself, whatever happens to the cluster. */
  maxOps?: number
  maxMs?: number
  /** How the client reaches the nodes, e.g. TLS and a natMap from announced hostnames to pod IPs. */
  connection?: Pick<ClusterOptions, 'natMap'> & {redisOptions?: ClusterOptions['redisOptions']}
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
  /** 'caller' when the traffic ran until stop(): it then spanned the whole change. */
  stoppedBy: 'caller' | 'max-ops' | 'max-time'
}

export interface Traffic {
  /** Writes acknowledged until now. */
  writesAcknowledged(): number
  /** Stops the workers, reads every key back and closes the client. */
  stop(): Promise<TrafficReport>
}

export function startTraffic(seeds: Array<{host: string; port: number}>, options: TrafficOptions = {}): Traffic {
  const {keys = 200, workers = 4, opsPerSecond = 400, maxOps = 12_000, maxMs = 60_000, connection = {}} = options
  const cluster = new Cluster(seeds, {
    scaleReads: 'master',
    maxRedirections: 32,
    retryDelayOnMoved: 0,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 50,
    natMap: connection.natMap,
    redisOptions: {maxRetriesPerRequest: 2, connectTimeout: 2000, commandTimeout: 2000, ...connection.redisOptions},
  })
  const acknowledged = new Map<string, {seq: number; value: string}>()
  const maybe = new Map<string, Set<string>>()
  const report = {ops: 0, writesAcknowledged: 0, reads: 0, errors: 0, errorKinds: {} as Record<string, number>, staleReads: 0}
  let stoppedBy: TrafficReport['stoppedBy'] | undefined
  const started = Date.now()
  const pause = (workers * 1000) / opsPerSecond

  const failed = (error: unknown): void => {
    report.errors++
    const kind = (error instanceof Error ? error.message : String(error)).split(/[\s:]/)[0] || 'unknown'
    report.errorKinds[kind] = (report.errorKinds[kind] ?? 0) + 1
  }

  const worker = async (w: number): Promise<void> => {
    const mine = Array.from({length: Math.ceil((keys - w) / workers)}, (_, i) => `traffic:${w + i * workers}`)
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
          report.writesAcknowledged++
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

  return {
    writesAcknowledged: () => report.writesAcknowledged,
    async stop() {
      stoppedBy ??= 'caller'
      await running
      const seconds = (Date.now() - started) / 1000
      const lost: string[] = []
      try {
        for (const [key, {value}] of acknowledged) {
          const got = await cluster.get(key)
          if (got !== value && !maybe.get(key)?.has(got ?? '')) lost.push(`${key}: acknowledged ${value}, read ${got}`)
        }
      } finally {
        cluster.disconnect()
      }
      return {...report, seconds, opsPerSecond: Math.round(report.ops / seconds), lost, stoppedBy: stoppedBy!}
    },
  }
}

import {TimeoutError} from '../errors.js'

/** One look at the world: either the awaited value, or a sentence saying what is still missing. */
export type Probe<T> = {done: true; value: T} | {done: false; missing: string}

export interface WaitOptions {
  timeoutMs: number
  /** Pause between probes; convergence in Redis Cluster happens in tens of milliseconds, so poll that fast. */
  intervalMs?: number
  /** Called with each unfinished probe's `missing`, for progress output. */
  onWaiting?: (missing: string) => void
}

/**
 * Probes until done or the deadline passes, then throws a TimeoutError naming `what` and what the last probe
 * still found missing. The probe runs at least once, even with a zero timeout.
 */
export async function waitUntil<T>(what: string, probe: () => Promise<Probe<T>>, options: WaitOptions): Promise<T> {
  const interval = options.intervalMs ?? 20
  const started = Date.now()
  while (true) {
    const result = await probe()
    if (result.done) return result.value
    options.onWaiting?.(result.missing)
    const elapsed = Date.now() - started
    if (elapsed + interval > options.timeoutMs) {
      throw new TimeoutError(`Timed out after ${(elapsed / 1000).toFixed(1)} s waiting for ${what}: ${result.missing}`, [
        'Run the same command again: it resumes where it stopped.',
        'redisctl check shows what the nodes disagree about.',
      ])
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}

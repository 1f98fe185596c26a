import {TimeoutError} from '../errors.js'
import {interruption} from './interrupt.js'

/** One look at the world: either the awaited value, or a sentence saying what is still missing. */
export type Probe<T> = {done: true; value: T} | {done: false; missing: string}

export interface WaitOptions {
  timeoutMs: number
  /**
   * First pause between probes; convergence in Redis Cluster happens in tens of milliseconds, so poll that fast at
   * first. The pause grows while the wait lasts (up to MAX_INTERVAL_MS) and is never below MIN_INTERVAL_MS.
   */
  intervalMs?: number
  /** Called with each unfinished probe's `missing`, for progress output. */
  onWaiting?: (missing: string) => void
  /** The command's stop signal: the wait ends at once with an InterruptedError saying what it waited for. */
  signal?: AbortSignal
}

/** No wait polls faster than this, whatever it asks: a loop of probes must not keep a core busy. */
export const MIN_INTERVAL_MS = 10
/** Long waits poll this often at most: what converges in seconds need not be asked 50 times a second. */
export const MAX_INTERVAL_MS = 500
const GROWTH = 1.25

/**
 * Probes until done or the deadline passes, then throws a TimeoutError naming `what` and what the last probe
 * still found missing. A probe still running at the deadline, or when the signal fires, is not awaited: the wait
 * ends then, so that one stuck probe cannot outlive --timeout.
 */
export async function waitUntil<T>(what: string, probe: () => Promise<Probe<T>>, options: WaitOptions): Promise<T> {
  let interval = Math.max(MIN_INTERVAL_MS, options.intervalMs ?? 20)
  const started = Date.now()
  const deadline = started + options.timeoutMs
  let missing = 'no answer yet'
  const stopped = (): Error => interruption(options.signal!, `while waiting for ${what} (${missing})`)
  const timedOut = (): Error => new TimeoutError(`Timed out after ${((Date.now() - started) / 1000).toFixed(1)} s waiting for ${what}: ${missing}`, [
    'Run the same command again: it resumes where it stopped.',
    'redisctl check shows what the nodes disagree about.',
  ])
  for (;;) {
    if (options.signal?.aborted) throw stopped()
    const result = await bounded(probe(), deadline, options.signal)
    if (result === 'deadline') throw timedOut()
    if (result === 'stopped') throw stopped()
    if (result.done) return result.value
    missing = result.missing
    options.onWaiting?.(missing)
    if (Date.now() + interval > deadline) throw timedOut()
    if (await pause(interval, options.signal) === 'stopped') throw stopped()
    interval = Math.min(MAX_INTERVAL_MS, Math.max(interval, Math.round(interval * GROWTH)))
  }
}

/** The probe's result, or why it was not awaited. A probe that fails later has its error dropped: the wait is over. */
async function bounded<T>(probe: Promise<T>, deadline: number, signal: AbortSignal | undefined): Promise<T | 'deadline' | 'stopped'> {
  probe.catch(() => undefined)
  const cleanups: Array<() => void> = []
  const ends: Array<Promise<'deadline' | 'stopped'>> = [new Promise((resolve) => {
    const timer = setTimeout(() => resolve('deadline'), Math.max(0, deadline - Date.now()))
    cleanups.push(() => clearTimeout(timer))
  })]
  if (signal) ends.push(onAbort(signal, cleanups))
  try {
    return await Promise.race([probe, ...ends])
  } finally {
    for (const cleanup of cleanups) cleanup()
  }
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<'paused' | 'stopped'> {
  const cleanups: Array<() => void> = []
  const paused = new Promise<'paused'>((resolve) => {
    const timer = setTimeout(() => resolve('paused'), ms)
    cleanups.push(() => clearTimeout(timer))
  })
  try {
    return await Promise.race(signal ? [paused, onAbort(signal, cleanups)] : [paused])
  } finally {
    for (const cleanup of cleanups) cleanup()
  }
}

/** Settles with 'stopped' once the signal aborts; pushes onto `cleanups` what removes its listener. */
export function onAbort(signal: AbortSignal, cleanups: Array<() => void>): Promise<'stopped'> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve('stopped')
    const listener = (): void => resolve('stopped')
    signal.addEventListener('abort', listener, {once: true})
    cleanups.push(() => signal.removeEventListener('abort', listener))
  })
}

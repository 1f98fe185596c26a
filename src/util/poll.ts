import {TimeoutError} from '../errors.js'

export interface PollOptions {
  timeoutMs: number
  /** Between checks; convergence is usually a matter of milliseconds, so poll fast. */
  intervalMs?: number
  signal?: AbortSignal
}

/**
 * Calls `check` until it returns a value other than undefined, and returns that. On timeout, throws a
 * TimeoutError built from `describe()` — called then, so it can say what was still missing.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, describe: () => string, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  const interval = options.intervalMs ?? 25
  while (true) {
    options.signal?.throwIfAborted()
    const result = await check()
    if (result !== undefined) return result
    if (Date.now() >= deadline) {
      throw new TimeoutError(`Timed out after ${Math.round(options.timeoutMs / 1000)} s: ${describe()}.`, [
        'Run the same command again to resume, or raise --timeout.',
      ])
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}

import {InterruptedError} from '../errors.js'

/**
 * Why the work stopped, as an InterruptedError: the one the command's signal carries (src/cli/stop.ts), with
 * `doing` said instead of its message when given.
 */
export function interruption(signal: AbortSignal, doing?: string): InterruptedError {
  const reason: unknown = signal.reason
  const by = reason instanceof InterruptedError ? reason.signal : 'SIGINT'
  if (doing === undefined && reason instanceof InterruptedError) return reason
  return new InterruptedError(by, `Stopped by ${by}${doing ? ` ${doing}` : ''}.`)
}

/** Raised between steps or batches once the stop signal fired; what is done so far stays consistent. */
export function throwIfInterrupted(signal: AbortSignal | undefined, doing?: string): void {
  if (signal?.aborted) throw interruption(signal, doing)
}

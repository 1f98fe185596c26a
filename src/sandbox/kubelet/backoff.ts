/**
 * The kubelet's back-offs for crashing containers and failed image pulls (client-go flowcontrol.Backoff, 10 s
 * doubling up to 5 min on a real node), scaled down so that the sandbox shows the same states within seconds:
 * 0.5 s doubling up to 5 s.
 */
const FIRST_MS = 500
const MAX_MS = 5000

/** The wait after the n-th failure in a row (n >= 1). */
export function backOffMs(failures: number): number {
  return Math.min(FIRST_MS * 2 ** (Math.max(failures, 1) - 1), MAX_MS)
}

/** A duration as Go's time.Duration prints it (500ms, 5s, 1m20s), as the kubelet's messages show it. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  const minutes = Math.floor(ms / 60_000)
  const seconds = `${Number(((ms % 60_000) / 1000).toFixed(3))}s`
  return minutes > 0 ? `${minutes}m${seconds}` : seconds
}

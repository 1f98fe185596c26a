/** Units a duration may carry, as kubectl's --timeout (Go's time.ParseDuration) takes them, in milliseconds. */
const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g

/**
 * A duration in seconds from `30s`, `5m`, `1500ms`, `1m30s` or plain seconds (`300`), the forms kubectl's
 * --timeout takes plus a bare number for what redisctl always accepted. Throws an Error saying what is accepted.
 */
export function parseDuration(text: string): number {
  const input = text.trim()
  let ms: number
  if (/^\d+(?:\.\d+)?$/.test(input)) {
    ms = Number(input) * 1000
  } else {
    const parts = [...input.matchAll(PART)]
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== input) throw invalid(text)
    ms = parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * UNIT_MS[unit], 0)
  }
  if (!(ms > 0)) throw new Error(`"${text}" is not a duration longer than zero.`)
  return ms / 1000
}

const invalid = (text: string): Error =>
  new Error(`"${text}" is not a duration: use seconds (300), or a number with a unit: 1500ms, 30s, 5m, 1h, 1m30s.`)

/** A duration for people: 300 -> "5m", 90 -> "1m30s", 1.5 -> "1.5s". */
export function formatDuration(seconds: number): string {
  if (seconds < 60 || !Number.isInteger(seconds)) return `${Number(seconds.toFixed(3))}s`
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`
}

/** Bytes as people read them (1.2M), for tables. */
export function humanBytes(bytes: number | undefined): string | undefined {
  if (bytes === undefined) return undefined
  const units = ['B', 'K', 'M', 'G', 'T']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)}${units[unit]}`
}

/** Seconds since `started` (a Date.now()), to a tenth: the `seconds` of a command's result. */
export const secondsSince = (started: number): number => Math.round((Date.now() - started) / 100) / 10

/**
 * An error as oclif prints it (its `›` margin, "Error:", "Try this:"), but not wrapped: oclif wraps at 80 columns
 * when stderr is not a terminal, breaking paths and commands in CI logs mid-word, where nothing needs wrapping.
 */
export function unwrappedError(message: string, suggestions: readonly string[] = []): string {
  const tried = suggestions.length === 1 ? [`Try this: ${suggestions[0]}`] :
    suggestions.length > 1 ? ['Try this:', ...suggestions.map((s) => `  * ${s}`)] : []
  return [`Error: ${message}`, ...tried].flatMap((block) => block.split('\n')).map((line) => ` ›   ${line}`).join('\n')
}

/** How a message names the cluster: its StatefulSet, or for pods that no StatefulSet owns, the selector that found them. */
export const clusterWords = (target: {name?: string; selector: string}): string => target.name ?? `of the pods selected by -l ${target.selector}`

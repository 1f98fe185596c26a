/** "1 replica", "2 replicas": a count with its noun, singular for one. */
export const plural = (count: number, noun: string, many = `${noun}s`): string => `${count} ${count === 1 ? noun : many}`

/** Messages one after another, each ending as a sentence: "…as a replica. The cluster marks…", never "replica The cluster". */
export const sentences = (parts: readonly string[]): string =>
  parts.map((p) => p.trim()).filter(Boolean).map((p) => (/[.!?:]$/.test(p) ? p : `${p}.`)).join(' ')

/** The verb that agrees with a count: `${plural(n, 'node')} ${agree(n, 'does', 'do')} not know`. */
export const agree = (count: number, one: string, many: string): string => (count === 1 ? one : many)

/** "4 masters with 1 replica each", the way every message names a cluster's shape. */
export const shapeWords = (shape: {masters: number; replicasPerMaster: number}): string =>
  `${plural(shape.masters, 'master')} with ${plural(shape.replicasPerMaster, 'replica')} each`

/**
 * A list short enough for one line: the first three and how many more, so that a wait over 200 pods prints a line,
 * not a page; four are named rather than three and "1 more".
 */
export const firstFew = (items: readonly string[]): string =>
  items.length <= 4 ? items.join(', ') : `${items.slice(0, 3).join(', ')} and ${items.length - 3} more`

/** Names in the order people count them: redis-cluster-6 before redis-cluster-10. */
export const naturalOrder = (a: string, b: string): number => a.localeCompare(b, 'en', {numeric: true})

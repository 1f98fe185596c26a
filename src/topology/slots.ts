/** Hash slots: 16384 of them, owned by masters, written as inclusive ranges the way CLUSTER NODES does. */
export const SLOT_COUNT = 16384

export interface SlotRange {
  start: number
  end: number
}

export function slotsToRanges(slots: Iterable<number>): SlotRange[] {
  const sorted = [...new Set(slots)].sort((a, b) => a - b)
  const ranges: SlotRange[] = []
  for (const slot of sorted) {
    const last = ranges.at(-1)
    if (last && slot === last.end + 1) last.end = slot
    else ranges.push({start: slot, end: slot})
  }
  return ranges
}

export function rangesToSlots(ranges: readonly SlotRange[]): number[] {
  const slots: number[] = []
  for (const {start, end} of ranges) for (let s = start; s <= end; s++) slots.push(s)
  return slots
}

export const countSlots = (ranges: readonly SlotRange[]): number => ranges.reduce((n, r) => n + r.end - r.start + 1, 0)

export const formatRanges = (ranges: readonly SlotRange[]): string =>
  ranges.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(',')

/**
 * Splits all slots into `parts` contiguous ranges whose sizes differ by at most one, with the same
 * rounding as `redis-cli --cluster create`, so a cluster formed by either tool looks the same.
 */
export function splitEvenly(parts: number): SlotRange[] {
  const perPart = SLOT_COUNT / parts
  const ranges: SlotRange[] = []
  let start = 0
  for (let i = 0; i < parts; i++) {
    const end = i === parts - 1 ? SLOT_COUNT - 1 : Math.min(Math.round(perPart * (i + 1) - 1), SLOT_COUNT - 1)
    ranges.push({start, end})
    start = end + 1
  }
  return ranges
}

import type {PlacementViolation} from '../topology/placement.js'
import {formatRanges, slotsToRanges, type SlotRange} from '../topology/slots.js'
import type {ScaleOutPlanPreview} from '../workflows/scale-out.js'
import {agree, plural} from '../util/words.js'

/** A replica that would go down with its master, in words. */
export const violationWarning = (v: PlacementViolation): string =>
  `${v.replica.pod} replicates ${v.master.pod} on the same ${v.kind === 'same-node' ? 'Kubernetes node' : 'zone'} (${v.where}): one failure there loses the shard.`

const where = (k8sNode: string | undefined, exists: boolean): string =>
  k8sNode ? ` on ${k8sNode}` : exists ? '' : ' (its Kubernetes node is known once it is scheduled)'

/** `scale --dry-run`'s plan for people: the pods, who becomes what, and which slots go where. */
export function formatScaleOutPreview(statefulSet: string, preview: ScaleOutPlanPreview): string[] {
  const lines = [preview.podsAfter === preview.podsBefore
    ? `Would keep StatefulSet ${statefulSet} at ${plural(preview.podsBefore, 'pod')}.`
    : `Would scale StatefulSet ${statefulSet} from ${preview.podsBefore} to ${plural(preview.podsAfter, 'pod')}.`]
  if (preview.openSlots.length > 0) lines.push(`Would first close ${openSlotsWords(preview.openSlots)}.`)
  for (const j of preview.joining) {
    const pod = `${j.pod}${j.exists ? ' (already running)' : ''}`
    lines.push(j.role === 'master' ? `  ${pod} becomes a master${where(j.k8sNode, j.exists)}` : `  ${pod} becomes a replica of ${j.master}${where(j.k8sNode, j.exists)}`)
  }
  if (preview.moves.length === 0) lines.push('No slots would move: the masters already hold even shares.')
  else {
    const slots = preview.moves.reduce((n, m) => n + m.slots, 0)
    const keys = preview.moves.reduce((n, m) => n + m.keys, 0)
    lines.push(`Would move ${plural(slots, 'slot')} and ${plural(keys, 'key')} in ${plural(preview.moves.length, 'move')}:`)
    for (const m of preview.moves) lines.push(`  ${plural(m.slots, 'slot')} (${plural(m.keys, 'key')}) from ${m.from} to ${m.to}`)
  }
  return [...lines, ...mastersAfterwards(preview.masters)]
}

/** Every master once the scale is done: its slots before and after, and its replicas. Both directions' dry runs end with it. */
export function mastersAfterwards(masters: ReadonlyArray<{pod: string; slotsBefore: number; slotsAfter: number; slots: readonly SlotRange[]; replicas: readonly string[]}>): string[] {
  return ['Masters afterwards:', ...masters.map((m) =>
    `  ${m.pod}: ${m.slotsBefore} -> ${plural(m.slotsAfter, 'slot')} (${formatRanges(m.slots) || 'none'})${m.replicas.length > 0 ? `, ${agree(m.replicas.length, 'replica', 'replicas')} ${m.replicas.join(', ')}` : ''}`)]
}

/** Slots an interrupted move left open, as the line that says they are (or would be) closed first. */
export const openSlotsWords = (slots: readonly number[]): string =>
  `${plural(slots.length, 'slot')} left open by an interrupted move (${formatRanges(slotsToRanges(slots))}), toward the node holding their keys`

import type {PlanProgress} from '../redis/execute-moves.js'
import {plural} from '../util/words.js'

/** Waits report on every poll; the plain renderer prints every output, so only changes get a line. */
export const progress = (task: {output: string | undefined}) => (message: string): void => {
  if (task.output !== message) task.output = message
}

export const progressLine = (p: PlanProgress): string =>
  `${p.slotsDone}/${p.slotsTotal} slots, ${plural(p.keysMoved, 'key')} moved, ${Math.round(p.keysPerSecond)} keys/s` +
  (p.keysPerSecond > 0 && p.slotsDone > 0 ? `, about ${Math.ceil(((p.slotsTotal - p.slotsDone) / p.slotsDone) * (p.keysMoved / p.keysPerSecond))} s left` : '')

/**
 * Slot moves report after every batch and every finished move: a line a second at most, and none once every slot
 * has moved (each move that ends reports that again, and the step's title then says what was moved).
 */
export function movesProgress(task: {output: string | undefined}, now: () => number = Date.now): (p: PlanProgress) => void {
  let last = -Infinity
  return (p) => {
    if (p.slotsDone >= p.slotsTotal || now() - last < 1000) return
    last = now()
    task.output = progressLine(p)
  }
}

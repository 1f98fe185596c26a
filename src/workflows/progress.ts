import type {PlanProgress} from '../redis/execute-moves.js'
import type {RedisConnector} from '../redis/connection.js'
import type {FormOptions, FormStepSpec} from '../redis/form.js'
import type {ClusterLayout} from '../topology/model.js'
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

/**
 * A forming step as a task's work: its progress shown under the task, and the task shown as skipped (with why)
 * when the step found nothing to do, rather than reporting that it did it to no node.
 */
export async function runFormStep(step: FormStepSpec, task: {output: string | undefined; skip(message: string): void},
  connector: RedisConnector, layout: ClusterLayout, options: FormOptions): Promise<string[]> {
  const actions = await step.run(connector, layout, {...options, onProgress: (p) => progress(task)(p.message)})
  if (actions.length === 0 && step.idle) task.skip(step.idle)
  return actions
}

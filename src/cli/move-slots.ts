import type {BaseCommand} from './base-command.js'
import {openSlotsWords} from './plans.js'
import {runTasks} from './tasks.js'
import {describeMoves, previewMoves, rebalanceTasks, type MoveWords, type RebalanceContext} from '../workflows/rebalance.js'
import {plural} from '../util/words.js'

/** What `slots rebalance` and `slots reshard` report. */
export interface MoveSlotsResult {
  namespace: string
  /** The cluster's StatefulSet: --name, or with -l/--selector the one that owns the pods (absent when none does). */
  name?: string
  dryRun: boolean
  /** Each move with the keys it carries, counted on the giver when planned: what the run moves when nothing writes meanwhile. */
  moves: MoveWords[]
  slotsMoved: number
  keysMoved: number
  keysPerSecond: number
  closedOpenSlots: number
  /** Masters that own no slots and were left out of an even spread (slots rebalance without --use-empty-masters). */
  mastersWithoutSlots: string[]
  warnings: string[]
}

/** Plans (dry run) or runs the moves of a prepared rebalance context, prints them, and closes the connections. */
export async function moveSlots(command: BaseCommand, ctx: RebalanceContext, dryRun: boolean, nothingToMove: string): Promise<MoveSlotsResult> {
  try {
    if (dryRun) {
      await previewMoves(ctx)
    } else {
      await runTasks(rebalanceTasks(), ctx, command)
    }
  } finally {
    await ctx.cluster.access.close()
  }
  const moves = describeMoves(ctx.topology!, ctx.moves, ctx.moveKeys ?? [])
  if (ctx.closedSlots.length > 0) command.log(`${dryRun ? 'Would first close' : 'Closed'} ${openSlotsWords(ctx.closedSlots)}.`)
  for (const m of moves) command.log(`${dryRun ? 'Would move' : 'Moved'} ${plural(m.slots, 'slot')} (${plural(m.keys, 'key')}) from ${m.from} to ${m.to}.`)
  const leftOut = ctx.leftOut ?? []
  if (leftOut.length > 0) {
    const one = leftOut.length === 1
    command.log(`${moves.length === 0 ? 'The masters that own slots are balanced, but ' : ''}${leftOut.join(', ')} ${one ? 'owns' : 'own'} no slots and ${one ? 'was' : 'were'} left out: slots rebalance --use-empty-masters gives ${one ? 'it a share' : 'them shares'}.`)
  } else if (moves.length === 0) {
    command.log(nothingToMove)
  }
  return command.withSessionWarnings({
    namespace: ctx.cluster.target.kube.namespace,
    name: ctx.cluster.target.name,
    dryRun,
    moves,
    slotsMoved: ctx.progress?.slotsDone ?? 0,
    keysMoved: ctx.progress?.keysMoved ?? 0,
    keysPerSecond: Math.round(ctx.progress?.keysPerSecond ?? 0),
    closedOpenSlots: ctx.closedSlots.length,
    mastersWithoutSlots: leftOut,
    warnings: [],
  }, ctx.cluster.target.kube.warnings.all)
}

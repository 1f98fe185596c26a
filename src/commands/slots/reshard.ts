import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../../cli/flags.js'
import type {MoveSlotsResult} from '../../cli/move-slots.js'
import {planPodReshard, requireDistinctEnds, requireReshardEnds} from '../../topology/reshard-plan.js'
import type {RebalanceContext} from '../../workflows/rebalance.js'

export type ReshardResult = MoveSlotsResult

export default class SlotsReshard extends BaseCommand {
  static override movesKeys = true
  static override summary = 'Move slots, keys and all, from one master to another or to all the others.'
  static override description = `Like redis-cli --cluster reshard, with the batched migration of slots rebalance. Without --slots every slot of --from moves, which empties it for redisctl node del. Slots left open by an interrupted move are finished first; a source that owns no slots any more has nothing to move, so running the same command again after it finished changes nothing. A --from or --to naming a replica is refused (exit 2) before anything changes.`
  static override examples = [
    '<%= config.bin %> slots reshard --from redis-cluster-3 --to-all',
    '<%= config.bin %> slots reshard --from redis-cluster-0 --to redis-cluster-1 --slots 100',
  ]

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    from: Flags.string({description: 'Pod of the master that gives the slots.', required: true}),
    to: Flags.string({description: 'Pod of the master that receives them.', exactlyOne: ['to', 'to-all']}),
    'to-all': Flags.boolean({description: 'Spread the slots over every other master that owns slots.', exactlyOne: ['to', 'to-all']}),
    slots: Flags.integer({description: 'How many slots to move (default: all the source owns).', min: 1}),
    force: Flags.boolean({description: 'Move slots even when check finds errors in the cluster.', default: false}),
  }

  async run(): Promise<ReshardResult> {
    const {flags} = await this.parse(SlotsReshard)
    const {openCluster} = await import('../../workflows/inspect.js')
    const {openTarget} = await import('../../workflows/session.js')
    const {moveSlots} = await import('../../cli/move-slots.js')
    const input = {from: flags.from, to: flags.to, slots: flags.slots}
    requireDistinctEnds(input)
    const options = this.targetOptions(flags)
    const cluster = await openCluster(options, await openTarget(options, {operation: 'move-slots'}))
    const ctx: RebalanceContext = {
      cluster,
      input: {thresholdPercent: 0, useEmptyMasters: true, weights: new Map(), force: flags.force, timeoutMs: flags.timeout * 1000},
      validate: (topology) => requireReshardEnds(topology, input),
      planMoves: (topology) => planPodReshard(topology, input),
      holdReplicaMigration: true,
      closedSlots: [],
      moves: [],
    }
    return moveSlots(this, ctx, flags['dry-run'], `${flags.from} owns no slots; nothing to move.`)
  }
}

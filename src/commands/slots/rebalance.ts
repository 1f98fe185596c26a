import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags, thresholdFlags} from '../../cli/flags.js'
import type {MoveSlotsResult} from '../../cli/move-slots.js'
import {UsageError} from '../../errors.js'
import type {RebalanceContext} from '../../workflows/rebalance.js'

export type RebalanceResult = MoveSlotsResult

export default class SlotsRebalance extends BaseCommand {
  static override movesKeys = true
  static override summary = 'Even out the slots between masters with the fewest moves, keys and all.'
  static override description = 'Like redis-cli --cluster rebalance, but each giving master moves its own keys (a Lua script: GETKEYSINSLOT and MIGRATE of up to 500 keys, slot after slot), the slot changes go 256 slots to a script, and an empty master is filled by every giving master at once. Where the Redis user may not run scripts the moves go command by command. Slots left open by an interrupted move are finished first, so running it again resumes. Masters that own no slots are left out unless --use-empty-masters, and named.'
  static override examples = [
    '<%= config.bin %> slots rebalance --use-empty-masters',
    '<%= config.bin %> slots rebalance --weight redis-cluster-0=2 --threshold 1',
    '<%= config.bin %> slots rebalance --dry-run --json',
  ]

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    ...thresholdFlags,
    weight: Flags.string({description: 'POD=W: give this master W times a normal share (0 empties it). Repeatable.', multiple: true}),
    'use-empty-masters': Flags.boolean({description: 'Give slots to masters that own none (new masters).', default: false}),
    force: Flags.boolean({description: 'Move slots even when check finds errors in the cluster.', default: false}),
  }

  async run(): Promise<RebalanceResult> {
    const {flags} = await this.parse(SlotsRebalance)
    const weights = parseWeights(flags.weight ?? [])
    const {openCluster} = await import('../../workflows/inspect.js')
    const {openTarget} = await import('../../workflows/session.js')
    const {moveSlots} = await import('../../cli/move-slots.js')
    const options = this.targetOptions(flags)
    const cluster = await openCluster(options, await openTarget(options, {operation: 'move-slots'}))
    const ctx: RebalanceContext = {
      cluster,
      input: {thresholdPercent: flags.threshold, useEmptyMasters: flags['use-empty-masters'], weights, force: flags.force, timeoutMs: flags.timeout * 1000},
      closedSlots: [],
      moves: [],
    }
    return moveSlots(this, ctx, flags['dry-run'], 'The slots are balanced; nothing to move.')
  }
}

function parseWeights(specs: string[]): Map<string, number> {
  const weights = new Map<string, number>()
  for (const spec of specs) {
    const match = /^([^=]+)=(\d+(?:\.\d+)?)$/.exec(spec)
    if (!match) throw new UsageError(`--weight takes POD=NUMBER, got "${spec}".`)
    weights.set(match[1], Number(match[2]))
  }
  return weights
}

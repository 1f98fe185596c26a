import {BaseCommand} from '../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../cli/flags.js'
import {rolloutFlags, runRollout, type RolloutResult} from '../cli/rollout.js'

export default class Restart extends BaseCommand {
  static override summary = 'Restart every pod of the cluster, one at a time, without losing a write.'
  static override description = `Sets the restartedAt annotation on the pod template, as kubectl rollout restart does, then rolls the pods as redisctl rollout does: replicas first, each until Ready and in sync, then each master after a planned CLUSTER FAILOVER onto an in-sync replica.

Run again after an interruption, it finishes the roll under way instead of starting another.`

  static override examples = ['<%= config.bin %> restart --dry-run', '<%= config.bin %> restart']

  static override flags = {...kubeFlags, ...redisFlags, ...actionFlags, ...rolloutFlags}

  async run(): Promise<RolloutResult> {
    const {flags} = await this.parse(Restart)
    return runRollout(this, {
      flags: this.targetOptions(flags),
      request: {change: {}, restart: true, undo: false, allowUnavailable: flags['allow-unavailable']},
    })
  }
}

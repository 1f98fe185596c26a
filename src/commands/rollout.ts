import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../cli/flags.js'
import {rolloutFlags, runRollout, type RolloutResult} from '../cli/rollout.js'
import {parseSettings} from '../manifests/rollout.js'

export default class Rollout extends BaseCommand {
  static override summary = 'Change the image, resources or redis.conf of the cluster and restart its pods one at a time, without losing a write.'
  static override description = `Writes the change into the StatefulSet's pod template (and redis.conf into the ConfigMap for --set and --memory), then restarts the pods itself, one at a time, never two of one shard:
- replicas first, each waited for until Ready and in sync with its master (link up, no sync under way, offset caught up);
- then shard by shard, a planned CLUSTER FAILOVER onto a replica already on the new revision and in sync, confirmed by every node, after which the old master's pod is restarted and waited for as an in-sync replica.

A shard whose master has no replica in sync is refused, nothing changed (exit 4), unless --allow-unavailable. A pod that will not become Ready (an image that cannot be pulled, a crash loop) stops the roll at once, naming the pod and the reason (exit 12), with nothing else touched; --undo then puts the previous template back and rolls the pods that had changed; redis.conf goes back to what that template was made with, so a config set made since is taken back too (check then shows it as config-drift on the pods not rolled; config set again keeps it).

The StatefulSet's updateStrategy is OnDelete for clusters redisctl creates; an adopted one with RollingUpdate is switched to OnDelete in the same write as the template, after asking (--yes). Which pods are done is read from each pod's controller-revision-hash against the StatefulSet's update revision, so a roll killed at any point is finished by running the same command again. See docs/failure-handling.md.`

  static override examples = [
    '<%= config.bin %> rollout --image redis:7.2 --dry-run',
    '<%= config.bin %> rollout --image redis:7.2',
    '<%= config.bin %> rollout --memory 2Gi --cpu 500m',
    '<%= config.bin %> rollout --set maxmemory-policy=allkeys-lru --set hz=20',
    '<%= config.bin %> rollout --undo',
  ]

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    ...rolloutFlags,
    image: Flags.string({description: 'The Redis container\'s new image.'}),
    memory: Flags.string({description: 'The Redis container\'s memory request and limit (e.g. 2Gi); maxmemory in redis.conf is set to 80% of it.'}),
    cpu: Flags.string({description: 'The Redis container\'s cpu request and limit (e.g. 500m).'}),
    set: Flags.string({description: 'A redis.conf setting KEY=VALUE, written into the ConfigMap (repeatable).', multiple: true}),
    undo: Flags.boolean({description: 'Put the previous pod template back (from the ControllerRevisions) and roll the pods that run another.', default: false, exclusive: ['image', 'memory', 'cpu', 'set']}),
  }

  async run(): Promise<RolloutResult> {
    const {flags} = await this.parse(Rollout)
    const change = {image: flags.image, memory: flags.memory, cpu: flags.cpu, settings: parseSettings(flags.set ?? [])}
    if (!flags.undo) {
      const {requireSomeChange} = await import('../workflows/rollout.js')
      requireSomeChange(change)
    }
    return runRollout(this, {
      flags: this.targetOptions(flags),
      request: {change, restart: false, undo: flags.undo, allowUnavailable: flags['allow-unavailable']},
    })
  }
}

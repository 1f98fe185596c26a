import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../cli/flags.js'
import {secondsSince} from '../cli/format.js'
import type {FailoverMode} from '../topology/failover-plan.js'

export interface FailoverResult {
  namespace: string
  dryRun: boolean
  mode: FailoverMode
  /** The pod of the master handed over (for a master whose pod is gone: its address and id). */
  master: string
  /** The replica that took over, or with --dry-run would. */
  promoted: string
  actions: string[]
  /** How many nodes named the new master once it took over (absent on a dry run). */
  confirmation?: {confirmedBy: number; asked: number}
  seconds: number
  warnings: string[]
}

export default class Failover extends BaseCommand {
  static override summary = 'Hand a master\'s slots to one of its replicas with a planned CLUSTER FAILOVER, losing no acknowledged write.'
  static override description = `Promotes the best replica of the master on POD that is in sync (link up, no sync under way, offset caught up), or the one named by --to, and waits until every node names it as the owner of the slots; the old master becomes its replica. The master holds its clients until the replica has every write, so nothing acknowledged is lost.

A planned failover is refused (exit 4, nothing changed) when the master does not answer or no replica is in sync, naming each replica and why. For a master that is gone, --force (CLUSTER FAILOVER FORCE: a majority of masters votes) or --takeover (no vote) promote the replica that replicated the most; what the master had not replicated is lost. Both are refused while the master answers.`
  static override examples = [
    '<%= config.bin %> failover redis-cluster-0',
    '<%= config.bin %> failover redis-cluster-0 --to redis-cluster-4 --dry-run',
    '<%= config.bin %> failover redis-cluster-0 --to redis-cluster-3 --force',
  ]

  static override args = {
    pod: Args.string({description: 'The pod of the master to hand over.', required: true}),
  }

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    to: Flags.string({description: 'The replica (pod) to promote; by default the in-sync replica on the Kubernetes node with the fewest masters.'}),
    force: Flags.boolean({description: 'For a master that is gone: CLUSTER FAILOVER FORCE, without the master (writes it had not replicated are lost).', default: false, exclusive: ['takeover']}),
    takeover: Flags.boolean({description: 'For a master that is gone and no majority of masters to vote: CLUSTER FAILOVER TAKEOVER.', default: false, exclusive: ['force']}),
  }

  async run(): Promise<FailoverResult> {
    const {args, flags} = await this.parse(Failover)
    const started = Date.now()
    const options = this.targetOptions(flags)
    const mode: FailoverMode = flags.force ? 'force' : flags.takeover ? 'takeover' : 'planned'
    const {crowdingWarning, planFailover} = await import('../topology/failover-plan.js')
    const {describeStep} = await import('../workflows/failover.js')
    const {planAndFailOver} = await import('../cli/failovers.js')
    const {confirmationWords} = await import('../redis/failover.js')
    const dryRun = flags['dry-run']
    const {cluster, plan: {step, warnings}, actions, confirmations: [confirmation]} = await planAndFailOver(this, options, {timeoutMs: flags.timeout * 1000, dryRun},
      (topology) => {
        const planned = planFailover(topology, {pod: args.pod, to: flags.to, mode})
        return {step: planned, warnings: [crowdingWarning(topology, planned)].filter((w): w is string => w !== undefined)}
      }, (plan) => [plan.step])
    const result: FailoverResult = {
      namespace: cluster.target.kube.namespace,
      dryRun,
      mode,
      master: step.master.name,
      promoted: step.replica.name,
      actions,
      ...(confirmation ? {confirmation} : {}),
      seconds: secondsSince(started),
      warnings,
    }
    this.log(result.confirmation ? `${result.promoted} is the master of ${result.master}'s slots, confirmed by ${confirmationWords(result.confirmation)}.`
      : `Would fail over: ${describeStep(step)}.`)
    for (const warning of result.warnings) this.warn(warning)
    return this.withSessionWarnings(result, cluster.target.kube.warnings.all)
  }
}

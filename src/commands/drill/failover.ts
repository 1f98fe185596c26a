import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../../cli/flags.js'
import type {DrillContext, DrillReport} from '../../workflows/drill.js'
import {agree, plural} from '../../util/words.js'

export interface DrillFailoverResult extends Partial<DrillReport> {
  namespace: string
  dryRun: boolean
  /** The master whose pod is (or with --dry-run would be) deleted. */
  pod: string
  warnings: string[]
}

export default class DrillFailover extends BaseCommand {
  static override summary = 'Measure a master\'s failure under writes: delete its pod and time until its slots take writes again.'
  static override description = `A bounded cluster client writes to the master's slots while its pod is deleted, then reads its keys back and deletes them (200 keys named redisctl-drill:N, in the master's slots). The report says when a replica took over (promotion), when writes succeeded again, the longest gap between two acknowledged writes, the write errors the client saw, and the writes lost: acknowledged writes that do not read back. The drill then waits until the pod is back in the cluster (as a replica, or as the master when it returned within cluster-node-timeout) and every replica is in sync, so it leaves the cluster healthy.

It deletes a pod: it asks first (--yes answers). The writer is a cluster client that reaches the nodes as redisctl does (--connect): at their pod IPs, or through a port-forward to each pod, following the deleted pod to where it comes back; on a TLS cluster it maps the DNS names the nodes announce to their pods and verifies each node by its name. It refuses a cluster check finds errors in or a master without a replica in sync.`
  static override examples = [
    '<%= config.bin %> drill failover --yes',
    '<%= config.bin %> drill failover --pod redis-cluster-1 --yes --json',
  ]

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    pod: Flags.string({description: 'The master whose pod is deleted; by default the first master with a replica in sync.'}),
  }

  async run(): Promise<DrillFailoverResult> {
    const {flags} = await this.parse(DrillFailover)
    const started = Date.now()
    const options = this.targetOptions(flags)
    const {openTarget} = await import('../../workflows/session.js')
    const {drillReport, drillTasks} = await import('../../workflows/drill.js')
    const {runTasks} = await import('../../cli/tasks.js')
    const {confirm} = await import('../../cli/confirm.js')
    const target = await openTarget(options, {operation: 'drill'})
    const ctx: DrillContext = {options, target, pod: flags.pod, timeoutMs: flags.timeout * 1000}
    const tasks = drillTasks()
    let report: DrillReport | undefined
    try {
      await runTasks(tasks.slice(0, 1), ctx, this)
      const pod = ctx.drill!.master.name
      if (flags['dry-run']) {
        this.log(`Would delete ${pod} (a master; its ${agree(ctx.drill!.replicas.length, 'replica', 'replicas')} ${ctx.drill!.replicas.join(', ')}) under a writer on its slots.`)
        return this.withSessionWarnings<DrillFailoverResult>({namespace: target.kube.namespace, dryRun: true, pod, warnings: []}, target.kube.warnings.all)
      }
      if (!await confirm(`Delete pod ${pod}, a master, to measure its failover?`, {yes: flags.yes, action: `delete pod ${pod}`})) {
        this.log('Nothing done.')
        return this.withSessionWarnings<DrillFailoverResult>({namespace: target.kube.namespace, dryRun: false, pod, warnings: []}, target.kube.warnings.all)
      }
      await runTasks(tasks.slice(1), ctx, this)
      // The writer stops and reads its keys back; the report needs the drill to have run to its end.
      const traffic = await ctx.traffic?.stop()
      if (traffic && ctx.healthyAt) report = drillReport(ctx, traffic, started)
    } catch (error) {
      // The writer stops whatever happened, but its read-back can fail for the same reason the drill did (a node that
      // does not answer): the error that stopped the drill is the one to show.
      await ctx.traffic?.stop().catch(() => {})
      throw error
    } finally {
      await ctx.cluster?.access.close()
    }
    const r = report!
    this.log([
      `Deleted ${r.pod}; ${r.promoted ? `${r.promoted} took over after ${r.promotionSeconds} s` : 'the pod came back and kept its slots before a replica took over'}.`,
      `Writes to its slots succeeded again after ${r.writesResumedSeconds} s; longest write gap ${r.longestWriteGapSeconds} s.`,
      `${r.writesAcknowledged} writes acknowledged, ${plural(r.errors, 'error')} ${JSON.stringify(r.errorKinds)}, ${r.writesLost} acknowledged writes lost, ${r.staleReads} stale reads.`,
      `${r.pod} is back as a ${r.returnedAs}; the cluster was healthy again after ${r.healthySeconds} s.`,
      `The writer reached the nodes ${r.connect === 'direct' ? 'at their pod IPs' : 'through port-forwards to their pods'}.`,
      ...r.lost.map((l) => `lost: ${l}`),
    ].join('\n'))
    return this.withSessionWarnings<DrillFailoverResult>({namespace: target.kube.namespace, dryRun: false, ...r, warnings: []}, target.kube.warnings.all)
  }
}

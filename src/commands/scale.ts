import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../cli/flags.js'
import {formatScaleOutPreview, violationWarning} from '../cli/plans.js'
import {runTasks} from '../cli/tasks.js'
import {requireValidShape} from '../topology/shape.js'
import {formatRanges} from '../topology/slots.js'
import {describeMoves} from '../workflows/rebalance.js'
import {planScaleOutPreview, scaleOutTasks, type ScaleOutContext} from '../workflows/scale-out.js'
import {openTarget} from '../workflows/session.js'

export interface ScaleResult {
  namespace: string
  name: string
  dryRun: boolean
  masters: Array<{pod: string; k8sNode?: string; slots: string; replicas: string[]}>
  moves: Array<{from: string; to: string; slots: number}>
  keysMoved: number
  keysPerSecond: number
  warnings: string[]
}

export default class Scale extends BaseCommand {
  static override summary = 'Grow the cluster to N masters (and R replicas each), data kept: new pods, joined, slots rebalanced.'
  static override description = `Scales the StatefulSet, waits for the new pods, introduces them to the cluster, makes the chosen ones masters and the others replicas (on another Kubernetes node and zone than their master whenever the pods allow it), then moves slots onto the new masters with the fewest moves.

Idempotent and resumable: killed at any point, the same command finishes the job; a half-moved slot is completed. Scaling in is not available yet and is refused without changing anything.`
  static override examples = ['<%= config.bin %> scale --masters 4', '<%= config.bin %> scale --masters 3 --replicas-per-master 2', '<%= config.bin %> scale --masters 5 --dry-run']

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    masters: Flags.integer({description: 'Number of masters wanted (at least 3).', required: true}),
    'replicas-per-master': Flags.integer({description: 'Replicas for each master.', default: 1, min: 0}),
    force: Flags.boolean({description: 'Scale even when check finds errors in the cluster.', default: false}),
  }

  async run(): Promise<ScaleResult> {
    const {flags} = await this.parse(Scale)
    const shape = requireValidShape({masters: flags.masters, replicasPerMaster: flags['replicas-per-master']})
    const options = {...flags, passwordSecret: flags['password-secret']}
    const target = await openTarget(options)
    const ctx: ScaleOutContext = {
      options, target, statefulSet: flags.name, shape, force: flags.force, timeoutMs: flags.timeout * 1000, actions: [],
    }
    if (flags['dry-run']) {
      const preview = await planScaleOutPreview(ctx)
      for (const line of formatScaleOutPreview(flags.name, preview)) this.log(line)
      const warnings = [...preview.placement.violations.map(violationWarning),
        ...(preview.blocking.length > 0 ? [`The cluster is not healthy; a real run would refuse: ${preview.blocking.join(' ')}`] : [])]
      for (const w of warnings) this.warn(w)
      return {
        namespace: target.kube.namespace, name: flags.name, dryRun: true, keysMoved: 0, keysPerSecond: 0, warnings, moves: preview.moves,
        masters: preview.masters.map((m) => ({pod: m.pod, k8sNode: m.k8sNode, slots: formatRanges(m.slots), replicas: m.replicas})),
      }
    }
    let after
    try {
      await runTasks(scaleOutTasks(), ctx, this.jsonEnabled())
      after = await ctx.cluster!.observe()
    } finally {
      await ctx.cluster?.access.close()
    }
    const topology = ctx.rebalance?.topology
    const masters = (ctx.layout?.shards ?? []).map((s) => {
      const node = after.nodes.find((n) => n.pod?.pod === s.master.pod)
      return {pod: s.master.pod, k8sNode: s.master.k8sNode, slots: formatRanges(node?.slots ?? s.slots), replicas: s.replicas.map((r) => r.pod)}
    })
    const moves = topology ? describeMoves(topology, ctx.rebalance!.moves) : []
    const warnings = (ctx.placement?.violations ?? []).map((v) =>
      `${v.replica.pod} replicates ${v.master.pod} on the same ${v.kind === 'same-node' ? 'Kubernetes node' : 'zone'} (${v.where}).`)
    this.log(`The cluster ${flags.name} has ${masters.length} masters with ${shape.replicasPerMaster} replicas each.`)
    for (const w of warnings) this.warn(w)
    return {
      namespace: target.kube.namespace, name: flags.name, dryRun: false, masters, moves,
      keysMoved: ctx.rebalance?.progress?.keysMoved ?? 0, keysPerSecond: Math.round(ctx.rebalance?.progress?.keysPerSecond ?? 0), warnings,
    }
  }
}

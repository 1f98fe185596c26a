import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {confirm} from '../cli/confirm.js'
import {actionFlags, kubeFlags, redisFlags} from '../cli/flags.js'
import {formatScaleOutPreview, mastersAfterwards, openSlotsWords, violationWarning} from '../cli/plans.js'
import {UsageError} from '../errors.js'
import {requireValidShape, type ClusterShape} from '../topology/shape.js'
import {formatRanges} from '../topology/slots.js'
import {openSlotNumbers, type ClusterLayout, type Topology} from '../topology/model.js'
import type {ScaleInContext} from '../workflows/scale-in.js'
import type {MoveWords} from '../workflows/rebalance.js'
import type {ScaleOutContext} from '../workflows/scale-out.js'
import type {KubeTargetSession, TargetOptions} from '../workflows/session.js'
import {plural, shapeWords} from '../util/words.js'

export interface ScaleResult {
  namespace: string
  name: string
  direction: 'out' | 'in'
  dryRun: boolean
  masters: Array<{pod: string; k8sNode?: string; slots: string; replicas: string[]}>
  /** Each move with the keys it carries, counted on the giver when planned (the dry run's figure is what the run moves when nothing writes meanwhile). */
  moves: MoveWords[]
  keysMoved: number
  keysPerSecond: number
  /** Scale in: pods removed, masters failed over to a replica that stays, and what became of the PVCs. */
  removedPods: string[]
  failovers: Array<{from: string; to: string}>
  pvcs: {kept: string[]; deleted: string[]}
  /** Slots an interrupted move had left open, closed (or, with --dry-run, to be closed) before any other move. */
  closedOpenSlots: number
  warnings: string[]
}

interface Run {
  /** The cluster's StatefulSet (requireClusterName). */
  name: string
  flags: {force: boolean; timeout: number; 'delete-pvcs': boolean; 'dry-run': boolean; yes: boolean}
  shape: ClusterShape
  options: TargetOptions
  target: KubeTargetSession
}

export default class Scale extends BaseCommand {
  static override movesKeys = true
  static override summary = 'Scale the cluster to N masters with R replicas each, out or in, data kept.'
  static override description = `Out: scales the StatefulSet up, waits for the new pods, introduces them to the cluster, makes the chosen ones masters and the others replicas (on another Kubernetes node and zone than their master whenever the pods allow it), then moves slots onto the new masters with the fewest moves.

In: the StatefulSet removes its highest ordinals, whatever their role is today, so the plan starts from them: a master on a removed pod whose replica stays is failed over to it when that is cheaper than moving its data, other masters that go are drained evenly into the masters that stay (replica migration off meanwhile), the pods that stay are re-homed so every master has R replicas, the removed nodes are forgotten by every node and reset, and only then does the StatefulSet shrink. Their PersistentVolumeClaims are kept unless --delete-pvcs.

A flag left out keeps what the cluster has: --masters 4 on a cluster with 2 replicas per master keeps 2. A scale that removes pods asks first (--yes answers; without a terminal it is required).

Refused, with nothing changed: fewer than 3 masters, an unhealthy cluster (unless --force), masters that stay without the memory for the data, pods owned by an operator. Idempotent and resumable: killed at any point, the same command finishes the job; a half-moved slot is completed.`
  static override examples = [
    '<%= config.bin %> scale --masters 4',
    '<%= config.bin %> scale --masters 3 --replicas-per-master 2',
    '<%= config.bin %> scale --masters 3 --dry-run',
    '<%= config.bin %> scale --replicas-per-master 2',
    '<%= config.bin %> scale --masters 3 --delete-pvcs --yes',
  ]

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    masters: Flags.integer({description: 'Number of masters wanted (at least 3; default: as many as now).'}),
    'replicas-per-master': Flags.integer({description: 'Replicas for each master (default: as many as now).', min: 0, aliases: ['replicas']}),
    force: Flags.boolean({description: 'Scale even when check finds errors in the cluster.', default: false}),
    'delete-pvcs': Flags.boolean({description: 'Scaling in: delete the PersistentVolumeClaims of the removed pods (asks first; --yes without a TTY).', default: false, aliases: ['with-pvcs']}),
  }

  async run(): Promise<ScaleResult> {
    const {flags} = await this.parse(Scale)
    const given = {masters: flags.masters, replicasPerMaster: flags['replicas-per-master']}
    if (given.masters === undefined && given.replicasPerMaster === undefined) {
      throw new UsageError('Say what to scale to: --masters, --replicas-per-master, or both (a flag left out keeps what the cluster has).')
    }
    if (given.masters !== undefined) requireValidShape({masters: given.masters, replicasPerMaster: 0})
    const options = this.targetOptions(flags)
    const {openTarget, checkPermissions} = await import('../workflows/session.js')
    const {scaleDirection} = await import('../workflows/scale-direction.js')
    const {requireClusterName} = await import('../workflows/pods.js')
    // What both directions need is checked first; a scale in needs more, checked once the direction is known.
    const target = await openTarget(options, {operation: 'scale-out'})
    const name = await requireClusterName(target, 'a scale grows or shrinks the StatefulSet of the pods')
    const {direction, shape} = await scaleDirection(target, options, name, given, flags['delete-pvcs'])
    const run: Run = {name, flags, shape, options, target}
    if (direction === 'in') {
      target.forwardingDenied = await checkPermissions(target.kube, target.selector, options, {operation: 'scale-in', deletePvcs: flags['delete-pvcs']})
    }
    return this.withSessionWarnings(await (direction === 'in' ? this.scaleIn(run) : this.scaleOut(run)), target.kube.warnings.all)
  }

  private async scaleOut({name, flags, shape, options, target}: Run): Promise<ScaleResult> {
    const ctx: ScaleOutContext = {
      options, target, statefulSet: name, shape, force: flags.force, timeoutMs: flags.timeout * 1000, actions: [],
    }
    const {planScaleOutPreview, scaleOutTasks} = await import('../workflows/scale-out.js')
    const {describeMoves} = await import('../workflows/rebalance.js')
    const {runTasks} = await import('../cli/tasks.js')
    if (flags['dry-run']) {
      const preview = await planScaleOutPreview(ctx)
      for (const line of formatScaleOutPreview(name, preview)) this.log(line)
      const warnings = preview.placement.violations.map(violationWarning)
      for (const w of warnings) this.warn(w)
      return {
        ...this.result(target, name, 'out', true), warnings, moves: preview.moves, closedOpenSlots: preview.openSlots.length,
        masters: preview.masters.map((m) => ({pod: m.pod, k8sNode: m.k8sNode, slots: formatRanges(m.slots), replicas: m.replicas})),
      }
    }
    let after
    try {
      await runTasks(scaleOutTasks(), ctx, this)
      after = await ctx.cluster!.observe()
    } finally {
      await ctx.cluster?.access.close()
    }
    const topology = ctx.rebalance?.topology
    const warnings = (ctx.placement?.violations ?? []).map(violationWarning)
    this.log(`The cluster ${name} has ${shapeWords({masters: ctx.layout?.shards.length ?? 0, replicasPerMaster: shape.replicasPerMaster})}.`)
    for (const w of warnings) this.warn(w)
    return {
      ...this.result(target, name, 'out', false),
      masters: mastersOf(ctx.layout?.shards ?? [], after),
      moves: topology ? describeMoves(topology, ctx.rebalance!.moves, ctx.rebalance!.moveKeys ?? []) : [],
      keysMoved: ctx.rebalance?.progress?.keysMoved ?? 0,
      keysPerSecond: Math.round(ctx.rebalance?.progress?.keysPerSecond ?? 0),
      closedOpenSlots: ctx.rebalance?.closedSlots.length ?? 0,
      warnings,
    }
  }

  private async scaleIn({name, flags, shape, options, target}: Run): Promise<ScaleResult> {
    const ctx: ScaleInContext = {
      options, target, statefulSet: name, shape, force: flags.force, deletePvcs: flags['delete-pvcs'],
      timeoutMs: flags.timeout * 1000, actions: [], closedSlots: [], pvcs: {kept: [], deleted: []},
    }
    const {describePlan, planPvcs, prepareScaleIn, scaleInTasks} = await import('../workflows/scale-in.js')
    const {mastersAfter} = await import('../topology/scale-in-plan.js')
    const {describeMoves} = await import('../workflows/rebalance.js')
    const {runTasks} = await import('../cli/tasks.js')
    let after: Topology | undefined
    try {
      if (flags['dry-run']) {
        await prepareScaleIn(ctx)
        ctx.closedSlots = openSlotNumbers(ctx.topology!)
        ctx.pvcs = await planPvcs(ctx)
        if (ctx.closedSlots.length > 0) this.log(`Would first close ${openSlotsWords(ctx.closedSlots)}.`)
        this.log(`Would ${describePlan(ctx.plan!)}, then scale StatefulSet ${name} down to ${plural(ctx.plan!.podsAfter, 'pod')}.`)
        for (const m of describeMoves(ctx.topology!, ctx.plan!.moves, ctx.moveKeys ?? [])) this.log(`  move ${plural(m.slots, 'slot')} (${plural(m.keys, 'key')}) from ${m.from} to ${m.to}`)
        if (ctx.pvcs.deleted.length > 0) this.log(`Would delete ${plural(ctx.pvcs.deleted.length, 'PersistentVolumeClaim')}: ${ctx.pvcs.deleted.join(', ')}.`)
        if (ctx.pvcs.kept.length > 0) this.log(`Would keep ${plural(ctx.pvcs.kept.length, 'PersistentVolumeClaim')} (--delete-pvcs deletes them): ${ctx.pvcs.kept.join(', ')}.`)
        const keys = ctx.topology!.nodes.filter((n) => n.role === 'master').reduce((sum, n) => sum + (n.keys ?? 0), 0)
        this.log(`Afterwards: ${shapeWords({masters: ctx.plan!.layout.shards.length, replicasPerMaster: shape.replicasPerMaster})} on ${plural(ctx.plan!.podsAfter, 'pod')}, holding all ${plural(keys, 'key')}.`)
        for (const line of mastersAfterwards(mastersAfter(ctx.topology!, ctx.plan!))) this.log(line)
        if (removesPods(ctx) && !flags.yes) this.log('The run asks before it removes pods; without a terminal it needs --yes.')
        return await this.scaleInResult(ctx, true, ctx.topology!)
      }
      // Planned first (reads only), so that the question names the pods that go.
      await prepareScaleIn(ctx)
      const removed = ctx.plan!.removed.map((p) => p.pod)
      if (removesPods(ctx)) {
        const action = [
          ...(removed.length > 0 ? [`remove ${removed.join(', ')}`] : []),
          ...(flags['delete-pvcs'] ? [`delete the PersistentVolumeClaims of ${removed.length > 0 ? 'those pods' : 'the removed pods'}`] : []),
        ].join(' and ')
        if (!(await confirm(`Scale ${name} in to ${shapeWords(shape)}: ${action}?`, {yes: flags.yes, action}))) {
          this.log('Nothing was changed.')
          return this.result(target, name, 'in', false)
        }
      }
      await runTasks(scaleInTasks(), ctx, this)
      after = await ctx.cluster!.observe()
    } finally {
      await ctx.cluster?.access.close()
    }
    const result = await this.scaleInResult(ctx, false, after)
    this.log(`The cluster ${name} has ${shapeWords({masters: result.masters.length, replicasPerMaster: shape.replicasPerMaster})} on ${plural(ctx.plan!.podsAfter, 'pod')}.`)
    if (ctx.pvcs.kept.length > 0) this.log(`Kept PersistentVolumeClaims: ${ctx.pvcs.kept.join(', ')} (redisctl scale ... --delete-pvcs, or kubectl delete pvc, removes them).`)
    for (const w of result.warnings) this.warn(w)
    return result
  }

  private async scaleInResult(ctx: ScaleInContext, dryRun: boolean, after: Topology): Promise<ScaleResult> {
    const {describeMoves} = await import('../workflows/rebalance.js')
    const plan = ctx.firstPlan ?? ctx.plan!
    return {
      ...this.result(ctx.target, ctx.statefulSet, 'in', dryRun),
      masters: mastersOf(dryRun ? plan.layout.shards : ctx.plan!.layout.shards, dryRun ? undefined : after),
      moves: describeMoves(ctx.topology!, plan.moves, ctx.moveKeys ?? []),
      keysMoved: ctx.progress?.keysMoved ?? 0,
      keysPerSecond: Math.round(ctx.progress?.keysPerSecond ?? 0),
      removedPods: plan.removed.map((p) => p.pod),
      failovers: plan.failovers.map((f) => ({from: f.master.pod, to: f.replica.pod})),
      pvcs: ctx.pvcs,
      closedOpenSlots: ctx.closedSlots.length,
      warnings: plan.placement.violations.map(violationWarning),
    }
  }

  private result(target: KubeTargetSession, name: string, direction: 'in' | 'out', dryRun: boolean): ScaleResult {
    return {
      namespace: target.kube.namespace, name, direction, dryRun, masters: [], moves: [], keysMoved: 0, keysPerSecond: 0,
      removedPods: [], failovers: [], pvcs: {kept: [], deleted: []}, closedOpenSlots: 0, warnings: [],
    }
  }
}

/** A scale in that removes pods, or deletes their volumes, asks first: the run asks, and its dry run says so. */
const removesPods = (ctx: ScaleInContext): boolean => ctx.plan!.removed.length > 0 || ctx.deletePvcs

function mastersOf(shards: ClusterLayout['shards'], after?: Topology): ScaleResult['masters'] {
  return shards.map((s) => {
    const node = after?.nodes.find((n) => n.pod?.pod === s.master.pod)
    return {pod: s.master.pod, k8sNode: s.master.k8sNode, slots: formatRanges(node?.slots ?? s.slots), replicas: s.replicas.map((r) => r.pod)}
  })
}

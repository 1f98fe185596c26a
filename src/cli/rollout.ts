import {Flags} from '@oclif/core'

import {PreconditionError} from '../errors.js'
import type {ConfLineChange, TemplateChange} from '../manifests/rollout.js'
import {describeStep, type RolloutStep} from '../topology/rollout-plan.js'
import type {RolloutContext, RolloutRequest} from '../workflows/rollout.js'
import type {TargetOptions} from '../workflows/session.js'
import type {BaseCommand} from './base-command.js'
import {confirm} from './confirm.js'
import {secondsSince} from './format.js'

/** What `rollout` and `restart` did, or with --dry-run would do; the text output is printed from it. */
export interface RolloutResult {
  namespace: string
  statefulSet: string
  dryRun: boolean
  change: TemplateChange & {restart: boolean; undo: boolean}
  /** This run writes (or wrote) a new pod template; false when it finishes a roll under way, or nothing is to do. */
  templateChanged: boolean
  /** The lines of the ConfigMap's redis.conf it changes (or changed): --set, --memory's maxmemory, --undo. */
  redisConf: ConfLineChange[]
  /** A roll was under way (some pods on another revision) and this run finishes it. */
  resumed: boolean
  /** Every pod already ran the template asked for: nothing was changed. */
  nothingToDo: boolean
  /** OnDelete, or `switched from RollingUpdate` when this run switched it (with consent) so that redisctl does the roll. */
  updateStrategy: 'OnDelete' | 'switched from RollingUpdate'
  /** --undo: the revision it goes back to. */
  undoTo?: string
  /** The revision every pod runs afterwards (absent on a dry run that writes a new template: the controller names it). */
  updateRevision?: string
  /** The steps done, or with --dry-run planned, in order. */
  steps: Array<RolloutStep & {description: string}>
  /** Shards the dry run would refuse (the run refuses with exit 4 and changes nothing). */
  refused: string[]
  seconds: number
  warnings: string[]
}

export const rolloutFlags = {
  'allow-unavailable': Flags.boolean({
    description: 'Restart a master that has no replica in sync in place; its slots refuse writes until its pod is back (the dry run says which).',
    default: false,
  }),
}

export interface RolloutRun {
  flags: TargetOptions & {'dry-run': boolean; yes: boolean; timeout: number}
  request: RolloutRequest
}

/** The one procedure behind `rollout` and `restart`: plan (the dry run), ask about RollingUpdate, roll, report. */
export async function runRollout(command: BaseCommand, {flags, request}: RolloutRun): Promise<RolloutResult> {
  const started = Date.now()
  const {openTarget} = await import('../workflows/session.js')
  const {prepareRollout, rolloutTasks} = await import('../workflows/rollout.js')
  const {describeRefusal} = await import('../topology/rollout-plan.js')
  const {runTasks} = await import('./tasks.js')
  const {requireClusterName} = await import('../workflows/pods.js')
  const target = await openTarget(flags, {operation: 'rollout'})
  const statefulSet = await requireClusterName(target, 'a rollout changes the pod template of their StatefulSet')
  const ctx: RolloutContext = {options: flags, target, statefulSet, timeoutMs: flags.timeout * 1000, request, done: []}
  const describe = (steps: RolloutStep[]) => steps.map((s) => ({...s, description: describeStep(s)}))
  let result: RolloutResult
  try {
    const prepared = await prepareRollout(ctx)
    ctx.prepared = prepared
    const nothingToDo = prepared.plan.steps.length === 0 && !prepared.template && !prepared.config && !prepared.undoMarked && prepared.plan.refusals.length === 0
    const switching = prepared.switchToOnDelete && !nothingToDo
    if (switching && !flags['dry-run']) {
      const agreed = await confirm(`StatefulSet ${statefulSet} uses RollingUpdate, under which the controller restarts pods by ordinal, masters included, `
        + 'and a pod deleted below a partition comes back on the old template. Switch it to OnDelete so that redisctl rolls the pods?', {yes: flags.yes, action: `switch StatefulSet ${statefulSet} to OnDelete`})
      if (!agreed) throw new PreconditionError(`StatefulSet ${statefulSet} keeps RollingUpdate; nothing was changed.`, ['Run again and agree, or pass --yes.'])
    }
    if (!flags['dry-run'] && !nothingToDo) await runTasks(rolloutTasks(), ctx, command)
    const dryRun = flags['dry-run']
    result = {
      namespace: target.kube.namespace,
      statefulSet,
      dryRun,
      change: {...request.change, restart: request.restart, undo: request.undo},
      templateChanged: Boolean(prepared.template),
      redisConf: prepared.configChanges,
      resumed: prepared.resumed,
      nothingToDo,
      updateStrategy: switching ? 'switched from RollingUpdate' : 'OnDelete',
      ...(prepared.undoTo ? {undoTo: prepared.undoTo} : {}),
      ...(dryRun ? (prepared.template ? {} : {updateRevision: prepared.set.status?.updateRevision}) : {updateRevision: ctx.updateRevision ?? prepared.set.status?.updateRevision}),
      steps: describe(dryRun ? prepared.plan.steps : ctx.done),
      refused: prepared.plan.refusals.map(describeRefusal),
      seconds: secondsSince(started),
      warnings: [],
    }
  } finally {
    await ctx.access?.close()
  }
  printRollout(command, result)
  return command.withSessionWarnings(result, target.kube.warnings.all)
}

function printRollout(command: BaseCommand, r: RolloutResult): void {
  if (r.nothingToDo) {
    command.log(`Every pod of ${r.statefulSet} already runs the template asked for (revision ${r.updateRevision}); nothing was changed.`)
    return
  }
  if (r.resumed) command.log(`${r.dryRun ? 'Would finish' : 'Finished'} the roll under way onto revision ${r.updateRevision}.`)
  if (r.undoTo) command.log(`${r.dryRun ? 'Would go' : 'Went'} back to revision ${r.undoTo}.`)
  for (const line of r.redisConf) command.log(`${r.dryRun ? 'Would change' : 'Changed'} redis.conf: ${confChangeWords(line)}`)
  if (r.updateStrategy === 'switched from RollingUpdate') command.log(`${r.dryRun ? 'Would switch' : 'Switched'} the StatefulSet from RollingUpdate to OnDelete (asks first; --yes).`)
  r.steps.forEach((s, i) => command.log(`${r.dryRun ? 'would' : 'did'} ${i + 1}: ${s.description}`))
  for (const refusal of r.refused) command.log(`${r.dryRun ? 'would refuse' : 'refused'}: ${refusal}`)
  if (!r.dryRun) command.log(`Every pod runs revision ${r.updateRevision}.`)
}

const confChangeWords = (c: ConfLineChange): string =>
  c.before === undefined ? `add "${c.after}"` : c.after === undefined ? `remove "${c.before}"` : `"${c.before}" becomes "${c.after}"`

import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {confirm} from '../cli/confirm.js'
import {actionFlags, kubeFlags} from '../cli/flags.js'
import {plural} from '../util/words.js'
import type {DeletedObject} from '../kube/delete.js'
import type {TeardownPlan} from '../workflows/teardown.js'

export interface TeardownOutput {
  namespace: string
  selector: string
  dryRun: boolean
  nothingToDo: boolean
  /** What this run deleted (with --dry-run: would delete). */
  deleted: Array<{kind: string; name: string}>
  /** Listed when the run started, but deleted by something else before this run got to them. */
  alreadyGone: Array<{kind: string; name: string}>
  keptPvcs: string[]
  warnings: string[]
}

export default class Teardown extends BaseCommand {
  static override summary = 'Delete everything redisctl created for a cluster, and with --with-pvcs its volumes too.'
  static override description = 'Deletes by label only what redisctl created (StatefulSet, Services, ConfigMap, PodDisruptionBudget, its Secret), waits until the pods are gone, and keeps the PersistentVolumeClaims (the data) unless --with-pvcs. Asks first on a terminal; without one it needs --yes. Tearing down nothing says so and succeeds.'
  static override examples = ['<%= config.bin %> teardown', '<%= config.bin %> teardown --with-pvcs --yes', '<%= config.bin %> teardown --dry-run --json']

  static override flags = {
    ...kubeFlags,
    ...actionFlags,
    'with-pvcs': Flags.boolean({description: 'Also delete the PersistentVolumeClaims, and so the Redis data.', default: false, aliases: ['delete-pvcs']}),
  }

  async run(): Promise<TeardownOutput> {
    const {flags} = await this.parse(Teardown)
    const {openTarget} = await import('../workflows/session.js')
    const {deleteObjects, kindsWords, planTeardown, teardownIsEmpty, waitForPodsGone, waitForPvcsGone} = await import('../workflows/teardown.js')
    const target = await openTarget({...flags, connect: 'direct', signal: this.stop.signal}, {operation: 'teardown', deletePvcs: flags['with-pvcs']})
    const {kube} = target
    const plan = await planTeardown(kube, target.selector, flags['with-pvcs'])
    const keptPvcs = flags['with-pvcs'] ? [] : plan.pvcs.map((p) => p.name)
    const output = (deleted: TeardownOutput['deleted'], nothingToDo: boolean, alreadyGone: TeardownOutput['alreadyGone'] = []): TeardownOutput => this.withSessionWarnings({
      namespace: kube.namespace, selector: plan.selector, dryRun: flags['dry-run'], nothingToDo, deleted, alreadyGone, keptPvcs, warnings: [],
    }, kube.warnings.all)
    if (teardownIsEmpty(plan)) {
      this.log(`Nothing to tear down: no objects match "${plan.selector}" in namespace ${kube.namespace}.`)
      return output([], true)
    }
    const doomed = [...plan.objects, ...(flags['with-pvcs'] ? plan.pvcs : [])]
    this.describePlan(kube.namespace, flags['dry-run'], plan, doomed, keptPvcs)
    if (flags['dry-run']) return output(doomed, false)
    const what = flags['with-pvcs'] ? 'these objects and the Redis data in their volumes' : 'these objects'
    if (!(await confirm(`Delete ${what}?`, {yes: flags.yes, action: 'tear down the cluster'}))) {
      this.log('Nothing was deleted.')
      return output([], true)
    }
    const timeoutMs = flags.timeout * 1000
    const {runTasks} = await import('../cli/tasks.js')
    const done = {deleted: [] as DeletedObject[], alreadyGone: [] as DeletedObject[]}
    const others = plan.objects.filter((o) => o.kind !== 'StatefulSet')
    await runTasks([
      {title: 'Delete the StatefulSet', enabled: () => plan.objects.some((o) => o.kind === 'StatefulSet'),
        task: () => deleteObjects(kube, plan.objects.filter((o) => o.kind === 'StatefulSet'), done)},
      {title: `Wait until the pods are gone`, task: () => waitForPodsGone(kube, plan.selector, timeoutMs)},
      {title: `Delete the ${kindsWords(others)}`, enabled: () => others.length > 0, task: () => deleteObjects(kube, others, done)},
      {title: 'Delete the PersistentVolumeClaims', enabled: () => flags['with-pvcs'] && plan.pvcs.length > 0,
        task: async () => {
          await deleteObjects(kube, plan.pvcs, done)
          await waitForPvcsGone(kube, plan.selector, timeoutMs)
        }},
    ], {}, this)
    // In the plan's order, whichever deletion answered first.
    const inPlanOrder = (objects: DeletedObject[]): DeletedObject[] => doomed.filter((d) => objects.includes(d))
    const alreadyGone = inPlanOrder(done.alreadyGone)
    if (alreadyGone.length > 0) this.log(`Already gone before this run deleted them (deleted by something else meanwhile): ${alreadyGone.map((o) => `${o.kind}/${o.name}`).join(', ')}.`)
    if (keptPvcs.length > 0) this.log(`Kept ${plural(keptPvcs.length, 'PersistentVolumeClaim')} (the data): ${keptPvcs.join(', ')}. Delete them with --with-pvcs.`)
    else this.log('Teardown complete.')
    return output(inPlanOrder(done.deleted), false, alreadyGone)
  }

  private describePlan(namespace: string, dryRun: boolean, plan: TeardownPlan, doomed: Array<{kind: string; name: string}>, keptPvcs: string[]): void {
    this.log(`${dryRun ? 'Would delete' : 'To delete'} in namespace ${namespace}:`)
    for (const o of doomed) this.log(`  ${o.kind}/${o.name}`)
    if (plan.pods.length > 0) this.log(`  and so the pods ${plan.pods.join(', ')}`)
    if (keptPvcs.length > 0) this.log(`Kept: PersistentVolumeClaims ${keptPvcs.join(', ')}`)
  }
}

import {BaseCommand} from '../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../cli/flags.js'
import {secondsSince} from '../cli/format.js'
import {ExitCode} from '../errors.js'
import {checkTopology, type Finding} from '../topology/check.js'
import {describeAction, type Refusal, type RepairAction} from '../topology/repair-plan.js'

export interface RepairResult {
  namespace: string
  dryRun: boolean
  /** Nothing needed repair: the cluster was left untouched. */
  nothingToRepair: boolean
  /** What was done, or with --dry-run what would be done. */
  actions: Array<RepairAction & {description: string}>
  /** Damage repair leaves to a person, with what to do; the exit code is 10 when there is any. */
  refused: Refusal[]
  findingsBefore: Finding[]
  /** Check's findings at the end (warnings may remain); absent with --dry-run. */
  findingsAfter?: Finding[]
  seconds: number
  warnings: string[]
}

export default class Repair extends BaseCommand {
  static override movesKeys = true
  static override summary = 'Bring a damaged cluster back to health: stale pod IPs, nodes whose pod is gone, open slots, uncovered slots, masters without a replica, replica migration left off.'
  static override description = `Reads every pod and node, then repairs, in this order, and waits until check finds no errors:
- nodes known at old IPs (all pods restarted at once): each is introduced again at its pod's current IP (CLUSTER MEET);
- cluster nodes no pod answers for: forgotten on every node (CLUSTER FORGET), never while they own slots;
- slots left MIGRATING/IMPORTING: closed toward the node holding their keys, as redis-cli --cluster fix does;
- slots no node owns: given to the master holding their keys, else spread evenly over the masters;
- masters without a replica: given an empty master or an extra replica, off the master's Kubernetes node and zone where possible;
- replica migration left off by an interrupted scale in or slots reshard: turned back on.

A healthy cluster is left untouched (exit 0). Damage that needs a person (keys of one slot on several masters, a master whose pod and data are gone) is reported with what to do, exit 10 (its dry run exits 10 too). See docs/failure-handling.md.`

  static override examples = [
    '<%= config.bin %> repair --dry-run',
    '<%= config.bin %> repair',
    '<%= config.bin %> repair --json --timeout 120',
  ]

  static override flags = {...kubeFlags, ...redisFlags, ...actionFlags}

  async run(): Promise<RepairResult> {
    const {flags} = await this.parse(Repair)
    const started = Date.now()
    const options = this.targetOptions(flags)
    const timeoutMs = flags.timeout * 1000
    const {openTarget} = await import('../workflows/session.js')
    const {openCluster} = await import('../workflows/inspect.js')
    const {waitForReadyPods} = await import('../workflows/pods.js')
    const {describeRefusal, newRepairContext, observeAndPlan, repairTasks} = await import('../workflows/repair.js')
    const {runTasks} = await import('../cli/tasks.js')
    const target = await openTarget(options, {operation: 'repair'})
    // After a mass restart the pods come back one by one: repairing before all answer would see half a cluster.
    if (!flags['dry-run']) await waitForReadyPods(target.kube, target.selector, undefined, timeoutMs)
    const cluster = await openCluster(options, target)
    const ctx = newRepairContext(cluster, timeoutMs)
    try {
      if (flags['dry-run']) await observeAndPlan(ctx)
      else await runTasks(repairTasks(), ctx, this)
    } finally {
      await cluster.access.close()
    }
    const dryRun = flags['dry-run']
    const actions = (dryRun ? ctx.plan!.actions : ctx.done).map((a) => ({...a, description: describeAction(a)}))
    const refused = dryRun ? ctx.plan!.refusals : ctx.refusals
    if (ctx.healthy) {
      this.log('Nothing needed repair: no errors, every node reachable at its pod\'s address, every master with a replica where a pod was free.')
    } else {
      for (const a of actions) this.log(`${dryRun ? 'would' : 'did'}: ${a.description}`)
      for (const r of refused) this.log(`${dryRun ? 'would refuse' : 'refused'}: ${describeRefusal(r)}`)
      if (!dryRun && refused.length === 0) this.log('The cluster is repaired: check finds no errors.')
    }
    // The dry run exits as the run would, so that a job can branch on it.
    if (refused.length > 0) process.exitCode = ExitCode.unhealthy
    return this.withSessionWarnings<RepairResult>({
      namespace: cluster.target.kube.namespace,
      dryRun,
      nothingToRepair: ctx.healthy,
      actions,
      refused,
      findingsBefore: ctx.before,
      ...(dryRun ? {} : {findingsAfter: checkTopology(ctx.topology!)}),
      seconds: secondsSince(started),
      warnings: [],
    }, target.kube.warnings.all)
  }
}

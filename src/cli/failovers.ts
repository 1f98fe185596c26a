import type {FailoverStep} from '../topology/failover-plan.js'
import type {Topology} from '../topology/model.js'
import type {FailoverContext} from '../workflows/failover.js'
import type {OpenCluster} from '../workflows/inspect.js'
import type {TargetOptions} from '../workflows/session.js'
import type {BaseCommand} from './base-command.js'

export interface FailoversRun<P> {
  cluster: OpenCluster
  plan: P
  /** What was sent, for --json. */
  actions: string[]
  /** Per failover done: how many nodes named the new master. */
  confirmations: FailoverContext['confirmations']
}

/**
 * What `failover` and `evacuate` share: open the cluster, plan from what it shows (the dry run is this plan), run the
 * plan's failovers one shard at a time unless it is a dry run, and close the cluster whatever happens.
 */
export async function planAndFailOver<P>(command: BaseCommand, options: TargetOptions, run: {timeoutMs: number; dryRun: boolean},
  planOf: (topology: Topology) => P, stepsOf: (plan: P) => readonly FailoverStep[]): Promise<FailoversRun<P>> {
  const {failoverTasks, openAndPlan} = await import('../workflows/failover.js')
  const {cluster, plan} = await openAndPlan(options, planOf)
  const ctx: FailoverContext = {cluster, timeoutMs: run.timeoutMs, actions: [], confirmations: []}
  try {
    const steps = stepsOf(plan)
    if (!run.dryRun && steps.length > 0) {
      const {runTasks} = await import('./tasks.js')
      await runTasks(failoverTasks(steps), ctx, command)
    }
  } finally {
    await cluster.access.close()
  }
  return {cluster, plan, actions: ctx.actions, confirmations: ctx.confirmations}
}

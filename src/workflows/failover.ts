import type {ListrTask} from 'listr2'

import {failOver, type FailOverReport} from '../redis/failover.js'
import type {FailoverStep} from '../topology/failover-plan.js'
import {podAddress, type Topology} from '../topology/model.js'
import {openCluster, type OpenCluster} from './inspect.js'
import {openTarget, type TargetOptions} from './session.js'

export interface FailoverContext {
  cluster: Pick<OpenCluster, 'access' | 'pods'>
  timeoutMs: number
  actions: string[]
  /** Per failover done, in order: how many nodes named the new master. */
  confirmations: Array<Pick<FailOverReport, 'confirmedBy' | 'asked'>>
}

const COMMAND = {planned: undefined, force: 'FORCE', takeover: 'TAKEOVER'} as const

export const describeStep = (step: FailoverStep): string =>
  `${step.replica.name} takes over from ${step.master.name}${step.mode === 'planned' ? '' : ` (CLUSTER FAILOVER ${COMMAND[step.mode]})`}`

/**
 * One task per failover, one shard at a time: two manual failovers at once compete for the masters' votes in the
 * same epoch. Each waits until every node names the replica as the owner of the slots; a replica that already is
 * the master is only waited for, so a re-run after a kill finishes the step.
 */
export function failoverTasks(steps: readonly FailoverStep[]): ListrTask<FailoverContext>[] {
  return steps.map((step) => ({
    title: describeStep(step),
    task: async (ctx, task) => {
      const report = await failOver(ctx.cluster.access.connector, {id: step.replica.id, address: podAddress(step.replica.pod)},
        {id: step.master.id, address: step.master.address}, ctx.cluster.pods.map(podAddress), ctx.timeoutMs, {mode: COMMAND[step.mode]})
      ctx.actions.push(...report.actions)
      ctx.confirmations.push({confirmedBy: report.confirmedBy, asked: report.asked})
      task.title = `${step.replica.name} took over from ${step.master.name}`
    },
  }))
}

/**
 * Opens the cluster with the permission check of a failover, reads every node and plans from what it sees; the
 * dry run is this plan. The caller runs the plan's steps and closes `cluster.access`.
 */
export async function openAndPlan<P>(options: TargetOptions, planOf: (topology: Topology) => P): Promise<{cluster: OpenCluster; plan: P}> {
  const target = await openTarget(options, {operation: 'failover'})
  const cluster = await openCluster(options, target)
  try {
    return {cluster, plan: planOf(await cluster.observe())}
  } catch (error) {
    await cluster.access.close()
    throw error
  }
}

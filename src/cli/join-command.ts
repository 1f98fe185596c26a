import {Flags, type Interfaces} from '@oclif/core'

import {BaseCommand} from './base-command.js'
import {actionFlags, kubeFlags, redisFlags} from './flags.js'
import {violationWarning} from './plans.js'
import type {JoinPlan} from '../topology/join-plan.js'
import type {NodeAddContext, NodeAddInput} from '../workflows/node-add.js'
import {plural} from '../util/words.js'

export const joinFlags = {
  ...kubeFlags,
  ...redisFlags,
  ...actionFlags,
  force: Flags.boolean({description: 'Go ahead even when check finds errors in the cluster.', default: false}),
}

export interface NodeAddResult {
  namespace: string
  name: string
  dryRun: boolean
  podsBefore: number
  podsAfter: number
  /** The pods joined (or, with --dry-run, to be joined): created by this run, or already running outside the cluster. */
  added: Array<{pod: string; role: 'master' | 'replica'; master?: string; k8sNode?: string; zone?: string; created: boolean}>
  warnings: string[]
  /** What to run next, when there is something. */
  next?: string
}

/** `node add` and `node add-replica`: one workflow, told apart by the role the joining pods take. */
export abstract class JoinCommand extends BaseCommand {
  protected async join(flags: Interfaces.InferredFlags<typeof joinFlags>, input: NodeAddInput): Promise<NodeAddResult> {
    const options = this.targetOptions(flags)
    const {openTarget} = await import('../workflows/session.js')
    const {decideNodeAdd, nodeAddTasks} = await import('../workflows/node-add.js')
    const {runTasks} = await import('./tasks.js')
    const {requireClusterName} = await import('../workflows/pods.js')
    const target = await openTarget(options, {operation: 'node-add'})
    const name = await requireClusterName(target, 'node add grows the StatefulSet of the pods')
    const ctx: NodeAddContext = {options, target, statefulSet: name, timeoutMs: flags.timeout * 1000, input, actions: []}
    const dryRun = flags['dry-run']
    let plan: JoinPlan
    if (dryRun) {
      ctx.decided = await decideNodeAdd(ctx)
      plan = ctx.decided.plan
    } else {
      try {
        await runTasks(nodeAddTasks(), ctx, this)
      } finally {
        await ctx.cluster?.access.close()
      }
      plan = ctx.plan!
    }
    const decided = ctx.decided!
    const created = new Set(decided.created.map((p) => p.pod))
    const result: NodeAddResult = {
      namespace: target.kube.namespace,
      name,
      dryRun,
      podsBefore: decided.podsBefore,
      podsAfter: decided.podsWanted,
      added: plan.joining.map(({pod, master}) => ({
        pod: pod.pod, role: master ? 'replica' : 'master', master: master?.pod, k8sNode: pod.k8sNode, zone: pod.zone, created: created.has(pod.pod),
      })),
      warnings: plan.violations.map(violationWarning),
      next: input.role === 'master' ? 'redisctl slots rebalance --use-empty-masters' : undefined,
    }
    this.report(result)
    return this.withSessionWarnings(result, target.kube.warnings.all)
  }

  private report(result: NodeAddResult): void {
    const verb = result.dryRun ? 'Would add' : 'Added'
    if (result.podsAfter > result.podsBefore) {
      this.log(`${result.dryRun ? 'Would scale' : 'Scaled'} StatefulSet ${result.name} from ${result.podsBefore} to ${plural(result.podsAfter, 'pod')}.`)
    }
    for (const a of result.added) {
      const pod = `${a.pod}${a.created ? '' : ' (already running)'}${a.k8sNode ? ` on ${a.k8sNode}` : ''}`
      this.log(`${verb} ${pod} as ${a.role === 'master' ? 'an empty master' : `a replica of ${a.master}`}.`)
    }
    for (const w of result.warnings) this.warn(w)
    if (result.next) this.log(`The new masters own no slots yet; to give them their share run: ${result.next}`)
  }
}

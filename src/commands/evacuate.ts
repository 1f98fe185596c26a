import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../cli/flags.js'
import {secondsSince} from '../cli/format.js'
import {ExitCode} from '../errors.js'
import type {Unmovable} from '../topology/failover-plan.js'

export interface EvacuateResult {
  namespace: string
  dryRun: boolean
  k8sNode: string
  /** The cluster's pods on that Kubernetes node. */
  pods: string[]
  /** Masters handed to a replica on another node (with --dry-run: that would be). */
  failovers: Array<{master: string; replica: string; replicaK8sNode?: string}>
  /** Masters left on the node, and why; the exit code is 4 when there is any. */
  unmovable: Unmovable[]
  actions: string[]
  seconds: number
  warnings: string[]
}

export default class Evacuate extends BaseCommand {
  static override summary = 'Before kubectl drain: move every master off a Kubernetes node by planned failover, so the drain stops only replicas.'
  static override description = `Each master owning slots on the node is handed, one shard at a time, to a replica in sync on another node (the one whose node holds the fewest masters), and every node confirms it; no acknowledged write is lost. A master that cannot move is named with the reason (no replica, all its replicas on that node too, none in sync), the others still move, and the exit code is 4. Running it again after a kill finishes the job; a node that holds no master is success.`
  static override examples = [
    '<%= config.bin %> evacuate --k8s-node worker-2 --dry-run',
    '<%= config.bin %> evacuate --k8s-node worker-2 && kubectl drain worker-2 --ignore-daemonsets',
  ]

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    'k8s-node': Flags.string({description: 'The Kubernetes node to move the masters off.', required: true}),
  }

  async run(): Promise<EvacuateResult> {
    const {flags} = await this.parse(Evacuate)
    const started = Date.now()
    const options = this.targetOptions(flags)
    const k8sNode = flags['k8s-node']
    const {planEvacuation} = await import('../topology/failover-plan.js')
    const {describeStep} = await import('../workflows/failover.js')
    const {planAndFailOver} = await import('../cli/failovers.js')
    const dryRun = flags['dry-run']
    const {cluster, plan, actions} = await planAndFailOver(this, options, {timeoutMs: flags.timeout * 1000, dryRun},
      (topology) => planEvacuation(topology, k8sNode), (evacuation) => evacuation.failovers)
    if (plan.pods.length === 0) this.log(`No pod of the cluster runs on ${k8sNode}: nothing to move.`)
    else if (plan.failovers.length === 0 && plan.unmovable.length === 0) this.log(`No master runs on ${k8sNode} (${plan.pods.join(', ')}): a drain stops only replicas.`)
    for (const step of plan.failovers) this.log(`${dryRun ? 'would' : 'did'}: ${describeStep(step)} (on ${step.replica.pod.k8sNode ?? 'an unknown node'})`)
    for (const u of plan.unmovable) this.log(`${dryRun ? 'would leave' : 'left'} ${u.master} on ${k8sNode}: ${u.reason}.`)
    if (plan.unmovable.length > 0) {
      this.log(`Draining ${k8sNode} now would stop ${plan.unmovable.length === 1 ? 'that master' : 'those masters'}: ${plan.unmovable.length === 1 ? 'its' : 'their'} slots refuse writes until a replica takes over (cluster-node-timeout), or for good without one.`)
      process.exitCode = ExitCode.precondition
    } else if (!dryRun && plan.failovers.length > 0) this.log(`No master runs on ${k8sNode} any more: a drain stops only replicas.`)
    return this.withSessionWarnings<EvacuateResult>({
      namespace: cluster.target.kube.namespace,
      dryRun,
      k8sNode,
      pods: plan.pods,
      failovers: plan.failovers.map((f) => ({master: f.master.name, replica: f.replica.name, replicaK8sNode: f.replica.pod.k8sNode})),
      unmovable: plan.unmovable,
      actions,
      seconds: secondsSince(started),
      warnings: [],
    }, cluster.target.kube.warnings.all)
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../../cli/flags.js'
import {plural} from '../../util/words.js'
import type {RemoveNodeContext} from '../../workflows/remove-node.js'

export interface NodeDelResult {
  namespace: string
  pod: string
  /** False when an earlier run had already taken it out (or the pod is gone). */
  removed: boolean
  rehomed: Array<{replica: string; master: string}>
  /** The StatefulSet's pods afterwards. */
  podsAfter?: number
  /** The pods the StatefulSet removes (its highest ordinals that are out of the cluster): this one, and maybe others above it. */
  removedPods: string[]
  /** Pods that are empty and outside the cluster but still run: the StatefulSet removes only its highest ordinals. */
  outside: string[]
  warnings: string[]
}

export default class NodeDel extends BaseCommand {
  /** del-replica refuses masters; del takes masters that own no slots too. */
  static replicaOnly = false

  static override summary = 'Take a node out of the cluster: a replica, or a master that owns no slots.'
  static override description = `Its replicas (for a master) follow the masters with the fewest replicas first; then every node forgets it, it is reset and emptied so its volume cannot bring it back, and the StatefulSet shrinks over the pods at its top that are out of the cluster. A master that still owns slots is refused: move them first with redisctl slots reshard --from POD --to-all.

Running it again after an interruption finishes the job; a pod that is gone already is success.`
  static override examples = ['<%= config.bin %> node del redis-cluster-7', '<%= config.bin %> node del redis-cluster-7 --dry-run --json']

  static override args = {
    pod: Args.string({description: 'The pod whose node goes.', required: true}),
  }

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    force: Flags.boolean({description: 'Remove the node even when check finds errors in the cluster.', default: false}),
  }

  async run(): Promise<NodeDelResult> {
    const command = this.constructor as typeof NodeDel
    const {args, flags} = await this.parse(command)
    const options = this.targetOptions(flags)
    const {openTarget} = await import('../../workflows/session.js')
    const {checkNodeRemoval, removeNodeTasks} = await import('../../workflows/remove-node.js')
    const {runTasks} = await import('../../cli/tasks.js')
    const {requireClusterName} = await import('../../workflows/pods.js')
    const target = await openTarget(options, {operation: 'node-remove'})
    const statefulSet = await requireClusterName(target, 'node del shrinks the StatefulSet of the pods when the pod is its highest')
    const ctx: RemoveNodeContext = {
      options, target, statefulSet, pod: args.pod, replicaOnly: command.replicaOnly, force: flags.force,
      timeoutMs: flags.timeout * 1000, gone: false, actions: [], removedPods: [], outside: [],
    }
    try {
      // A dry run is the run's check alone, without the task list: it plans, changes nothing and prints only the plan.
      await (flags['dry-run'] ? checkNodeRemoval(ctx) : runTasks(removeNodeTasks(), ctx, this))
    } finally {
      await ctx.cluster?.access.close()
    }
    const rehomed = (ctx.plan?.rehomed ?? []).map((r) => ({replica: r.replica.pod, master: r.master.pod}))
    const removed = !ctx.gone && !ctx.plan?.alreadyOut
    const dry = flags['dry-run']
    if (dry) {
      this.log(removed ? `Would take ${args.pod} out of the cluster${rehomed.length > 0 ? `, its replicas following ${rehomed.map((r) => `${r.replica} → ${r.master}`).join(', ')}` : ''}.` : `${args.pod} is out of the cluster already.`)
    } else {
      this.log(removed ? `${args.pod} left the cluster.` : `${args.pod} was out of the cluster already.`)
    }
    if (ctx.removedPods.length > 0) {
      this.log(`${dry ? 'Would scale' : 'Scaled'} StatefulSet ${statefulSet} down to ${plural(ctx.podsAfter!, 'pod')}: ${ctx.removedPods.join(', ')} ${dry ? 'would go' : 'went'} (the StatefulSet removes its highest ordinals).`)
    }
    for (const pod of ctx.outside) this.log(`${pod} ${dry ? 'would run' : 'runs'} empty outside the cluster (the StatefulSet removes only its highest ordinals); redisctl scale reuses it.`)
    return this.withSessionWarnings({
      namespace: target.kube.namespace, pod: args.pod, removed, rehomed, podsAfter: ctx.podsAfter, removedPods: ctx.removedPods, outside: ctx.outside, warnings: [],
    },
      target.kube.warnings.all)
  }
}

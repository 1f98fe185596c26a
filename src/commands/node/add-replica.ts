import {Flags} from '@oclif/core'

import {JoinCommand, joinFlags, type NodeAddResult} from '../../cli/join-command.js'

export default class NodeAddReplica extends JoinCommand {
  static override summary = 'Add a replica to the master with the fewest replicas, or to the one named.'
  static override description = `Grows the StatefulSet by one pod (or --count), introduces it to the cluster, waits until every node knows it, then makes it a replica, on another Kubernetes node and zone than its master whenever the pods allow it (a warning says when they do not).

Resumable: a pod that exists but is not a replica yet (from an interrupted run, or a kubectl scale) is used first, so the same command run again finishes the job instead of adding more pods.`
  static override examples = ['<%= config.bin %> node add-replica', '<%= config.bin %> node add-replica --master redis-cluster-3', '<%= config.bin %> node add-replica --count 3 --dry-run']

  static override flags = {
    ...joinFlags,
    master: Flags.string({description: 'Pod name of the master to follow (default: the master with the fewest replicas).'}),
    count: Flags.integer({description: 'How many replicas to add, each to the master with the fewest at that point.', default: 1, min: 1}),
  }

  async run(): Promise<NodeAddResult> {
    const {flags} = await this.parse(NodeAddReplica)
    return this.join(flags, {role: 'replica', count: flags.count, master: flags.master, force: flags.force})
  }
}

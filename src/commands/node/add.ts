import {Flags} from '@oclif/core'

import {JoinCommand, joinFlags, type NodeAddResult} from '../../cli/join-command.js'

export default class NodeAdd extends JoinCommand {
  static override summary = 'Add empty masters: grow the StatefulSet, wait for the new pods, introduce them to the cluster.'
  static override description = `Like redis-cli --cluster add-node, for each new pod: it is met by every node, and the command waits until every node knows it and reports cluster_state:ok. The new masters own no slots; give them their share with redisctl slots rebalance --use-empty-masters.

Resumable: pods that exist but are not in the cluster yet (from an interrupted run, or a kubectl scale) are joined first and count toward --count, so the same command run again finishes the job instead of adding more pods.`
  static override examples = ['<%= config.bin %> node add', '<%= config.bin %> node add --count 2 && <%= config.bin %> slots rebalance --use-empty-masters', '<%= config.bin %> node add --dry-run']

  static override flags = {
    ...joinFlags,
    count: Flags.integer({description: 'How many masters to add.', default: 1, min: 1}),
  }

  async run(): Promise<NodeAddResult> {
    const {flags} = await this.parse(NodeAdd)
    return this.join(flags, {role: 'master', count: flags.count, force: flags.force})
  }
}

import NodeDel from './del.js'

export default class NodeDelReplica extends NodeDel {
  static override replicaOnly = true
  // Restated: oclif reads each command's own static args and flags.
  static override args = NodeDel.args
  static override flags = NodeDel.flags

  static override summary = 'Take a replica out of the cluster (refuses masters).'
  static override description = `Every node forgets it, it is reset and emptied so its volume cannot bring it back, and the StatefulSet shrinks over the pods at its top that are out of the cluster. Running it again after an interruption finishes the job; a pod that is gone already is success.`
  static override examples = ['<%= config.bin %> node del-replica redis-cluster-5', '<%= config.bin %> node del-replica redis-cluster-5 --json']
}

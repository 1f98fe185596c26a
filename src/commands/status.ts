import {BaseCommand} from '../cli/base-command.js'
import {kubeFlags, redisFlags, wholeCommandTimeoutFlags} from '../cli/flags.js'
import {clusterWords, humanBytes} from '../cli/format.js'
import {renderTable} from '../cli/table.js'
import {describeAgreement, nodeStatuses, type NodeStatus, requireSomeAnswer, summarize, type ClusterSummary} from '../topology/status.js'
import type {SyncState} from '../topology/sync.js'
import {deadlineSignal} from '../util/call-bounds.js'

export interface StatusResult {
  namespace: string
  /** The cluster's StatefulSet: --name, or with -l/--selector the one that owns the pods (absent when none does). */
  name?: string
  /** The whole cluster, from the nodes that answered: cluster_state, slot map agreement, who answered. */
  summary: ClusterSummary
  nodes: NodeStatus[]
  warnings: string[]
}

export default class Status extends BaseCommand {
  static override summary = 'Show who is where: pod, Kubernetes node, zone, IP, role, master, slots, keys, memory, cluster link and replica sync.'
  static override description = `Agreement and cluster_state are said only of the nodes that answered, naming those that did not. A pod that answers but belongs to no cluster shows as outside; a pod that says nothing within --timeout (a stopped process, a blackholed IP) shows as unreachable and nothing is claimed from it. Exit code 0 when at least one node answered, 7 when none did.`
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status -n redis --json', '<%= config.bin %> status --timeout 3s']
  static override flags = {...kubeFlags, ...redisFlags, ...wholeCommandTimeoutFlags}

  async run(): Promise<StatusResult> {
    const {flags} = await this.parse(Status)
    const {inspectCluster} = await import('../workflows/inspect.js')
    const timeoutMs = flags.timeout * 1000
    // One deadline, on every Kubernetes request and Redis answer: what has not answered by then is reported as such.
    const signal = AbortSignal.any([this.stop.signal, deadlineSignal(timeoutMs)])
    const {namespace, name, selector, topology, warnings} = await inspectCluster({...this.targetOptions(flags), signal, answerTimeoutMs: timeoutMs})
    requireSomeAnswer(topology)
    const nodes = nodeStatuses(topology)
    const summary = summarize(topology)
    this.log(renderTable(
      ['pod', 'node', 'zone', 'ip', 'role', 'master', 'slots', 'count', 'keys', 'memory', 'link', 'sync'],
      nodes.map((n) => [n.pod, n.k8sNode, n.zone, `${n.ip}:${n.port}`, roleCell(n), n.masterPod,
        n.slots, n.role === 'master' ? n.slotCount : undefined, n.keys, humanBytes(n.usedMemoryBytes),
        [n.link, ...n.flags].filter(Boolean).join(','), n.sync && syncCell(n.sync)]),
    ))
    this.log(`\nThe cluster ${clusterWords({name, selector})} in namespace ${namespace}, cluster_state: ${summary.clusterState}; ${describeAgreement(summary)}`)
    if (summary.outside.length > 0) {
      this.log(`Outside the cluster (answering, but no node of the cluster knows them; not yet added, or removed by node del): ${summary.outside.join(', ')}`)
    }
    return this.withSessionWarnings<StatusResult>({namespace, name, summary, nodes, warnings: []}, warnings)
  }
}

function roleCell(n: NodeStatus): string | undefined {
  switch (n.membership) {
    case 'outside-cluster':
      return 'outside'
    case 'did-not-answer':
      return n.role ? `unreachable (${n.role})` : 'unreachable'
    default:
      return n.role
  }
}

function syncCell(sync: SyncState): string {
  switch (sync.state) {
    case 'in-sync':
      return 'in sync'
    case 'lagging':
      return `lagging ${humanBytes(sync.bytes)}`
    case 'link-down':
      return 'link down'
    default:
      return sync.state
  }
}

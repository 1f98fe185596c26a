import {BaseCommand} from '../cli/base-command.js'
import {kubeFlags, redisFlags} from '../cli/flags.js'
import {humanBytes} from '../cli/format.js'
import {renderTable} from '../cli/table.js'
import type {NodeStatus} from '../workflows/inspect.js'

export interface StatusResult {
  namespace: string
  clusterState: 'ok' | 'fail' | 'unknown'
  slotsAgreed: boolean
  nodes: NodeStatus[]
  warnings: string[]
}

export default class Status extends BaseCommand {
  static override summary = 'Show who is where: pod, Kubernetes node, zone, IP, role, master, slots, keys, memory and link state.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status -n redis --json']
  static override flags = {...kubeFlags, ...redisFlags}

  async run(): Promise<StatusResult> {
    const {flags} = await this.parse(Status)
    const {inspectCluster, nodeStatuses} = await import('../workflows/inspect.js')
    const {namespace, topology, warnings} = await inspectCluster({...flags, passwordSecret: flags['password-secret']})
    const nodes = nodeStatuses(topology)
    const states = new Set(topology.nodes.filter((n) => n.pod && n.reachable && n.inCluster).map((n) => n.clusterState))
    const clusterState = states.size === 1 && states.has('ok') ? 'ok' : states.has('fail') ? 'fail' : 'unknown'
    this.log(renderTable(
      ['pod', 'node', 'zone', 'ip', 'role', 'master', 'slots', 'count', 'keys', 'memory', 'link'],
      nodes.map((n) => [n.pod, n.k8sNode, n.zone, `${n.ip}:${n.port}`, n.reachable ? n.role : 'unreachable', n.masterPod,
        n.slots, n.role === 'master' ? n.slotCount : undefined, n.keys, humanBytes(n.usedMemoryBytes),
        [n.link, ...n.flags].join(',')]),
    ))
    this.log(`\ncluster_state: ${clusterState}; slot map ${topology.agreed ? 'agreed by every node in the cluster' : 'NOT agreed'}`)
    return this.withSessionWarnings<StatusResult>({namespace, clusterState, slotsAgreed: topology.agreed, nodes, warnings: []}, warnings)
  }
}

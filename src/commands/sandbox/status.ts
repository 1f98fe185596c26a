import {BaseCommand} from '../../cli/base-command.js'
import {sandboxDirFlag} from '../../cli/sandbox-flags.js'
import {renderTable} from '../../cli/table.js'
import type {SandboxNode, SandboxPod} from '../../sandbox/inventory.js'
import {currentSandboxDir} from '../../sandbox/paths.js'
import {isAlive, readState} from '../../sandbox/state.js'

export interface SandboxStatus {
  running: boolean
  dir: string
  server?: string
  kubeconfig?: string
  pid?: number
  nodes: SandboxNode[]
  pods: SandboxPod[]
}

export default class SandboxStatusCommand extends BaseCommand {
  static override summary = 'Show whether the sandbox is up, its nodes, and its pods with their IPs.'
  static override examples = ['<%= config.bin %> sandbox status', '<%= config.bin %> sandbox status --json']
  static override flags = {...sandboxDirFlag}

  async run(): Promise<SandboxStatus> {
    const {flags} = await this.parse(SandboxStatusCommand)
    const dir = currentSandboxDir(flags.dir)
    const state = await readState(dir)
    if (!state || !isAlive(state.pid)) {
      this.log(`The sandbox is not running (${dir}). Start it with: redisctl sandbox up`)
      return {running: false, dir, nodes: [], pods: []}
    }
    const {sandboxInventory} = await import('../../sandbox/inventory.js')
    const {nodes, pods} = await sandboxInventory(state.kubeconfig)
    this.log(`The sandbox is up at ${state.server} (pid ${state.pid}).`)
    this.log(`export KUBECONFIG=${state.kubeconfig}\n`)
    this.log(renderTable(['node', 'zone', 'ready'], nodes.map((n) => [n.name, n.zone, n.ready ? 'True' : 'False'])))
    this.log('')
    this.log(pods.length === 0 ? 'No pods.' : renderTable(['namespace', 'pod', 'node', 'ip', 'phase', 'ready'],
      pods.map((p) => [p.namespace, p.name, p.node, p.ip, p.phase, p.ready ? 'True' : 'False'])))
    return {running: true, dir, server: state.server, kubeconfig: state.kubeconfig, pid: state.pid, nodes, pods}
  }
}

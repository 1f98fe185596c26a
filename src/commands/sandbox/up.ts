import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {timeoutFlag} from '../../cli/flags.js'
import {sandboxDirFlag} from '../../cli/sandbox-flags.js'
import type {UpResult} from '../../sandbox/lifecycle.js'
import {sandboxDir} from '../../sandbox/paths.js'

export default class SandboxUp extends BaseCommand {
  static override summary = 'Start the embedded Kubernetes: an API server, a StatefulSet controller and a kubelet whose pods are real redis-server processes.'
  static override description = 'Runs in the background and returns when the API answers. Point kubectl and redisctl at it with the KUBECONFIG it prints. Running it again while it is up only says so.'
  static override examples = [
    '<%= config.bin %> sandbox up',
    'eval "$(<%= config.bin %> sandbox up | grep ^export)"',
    '<%= config.bin %> sandbox up --nodes 6 --zones 3 --json',
    '<%= config.bin %> sandbox up --image-map redis:7.2=/opt/redis-7.2/bin/redis-server --image-map redis:7.2-bad=',
  ]

  static override flags = {
    ...sandboxDirFlag,
    nodes: Flags.integer({description: 'How many fake Kubernetes nodes to schedule pods on.', default: 3, min: 1, max: 20}),
    zones: Flags.integer({description: 'How many zones the nodes are spread over.', default: 3, min: 1, max: 20}),
    port: Flags.integer({description: 'API server port on 127.0.0.1 (default: a free one).', default: 0, min: 0, max: 65535}),
    'pod-ip-range': Flags.string({description: 'CIDR in 127.0.0.0/8 that pod IPs come from (default: a /16 derived from --dir; name distinct ones when running several sandboxes at once).'}),
    'image-map': Flags.string({
      description: 'IMAGE=PATH: pods of IMAGE run PATH (a redis-server or valkey-server build), e.g. a second Redis version; IMAGE= makes IMAGE impossible to pull. Repeatable. Written to DIR/image-map, which the kubelet reads at every pull (a running sandbox takes it at once); redis* and valkey* images need no mapping.',
      multiple: true,
    }),
    timeout: timeoutFlag('How long to wait for the API to answer', 30),
  }

  async run(): Promise<UpResult> {
    const {flags} = await this.parse(SandboxUp)
    const dir = sandboxDir(flags.dir)
    const {sandboxUp} = await import('../../sandbox/lifecycle.js')
    const result = await sandboxUp({
      dir, nodes: flags.nodes, zones: flags.zones, port: flags.port, podIpRange: flags['pod-ip-range'], imageMap: flags['image-map'], timeoutMs: flags.timeout * 1000,
    })
    this.log(result.alreadyUp ? `The sandbox is already up at ${result.server}.` : `The sandbox is up at ${result.server}.`)
    this.log(`kubeconfig: ${result.kubeconfig}`)
    this.log(`export KUBECONFIG=${result.kubeconfig}`)
    return result
  }
}

import {Flags} from '@oclif/core'
import type {KubernetesObject} from '@kubernetes/client-node'

import {BaseCommand} from '../cli/base-command.js'
import {kubeFlags} from '../cli/flags.js'
import {rbacManifests} from '../manifests/rbac.js'

export interface RbacResult {
  apiVersion: 'v1'
  kind: 'List'
  items: KubernetesObject[]
}

export default class Rbac extends BaseCommand {
  static override summary = 'Print the Role (and optional ClusterRole) every redisctl command needs, ready for kubectl apply.'
  static override description = `The Role allows exactly the calls redisctl makes in one namespace: pods (list) and pods/portforward, the ConfigMap, Services, PodDisruptionBudget, StatefulSet (and its scale) and Secret it applies and tears down, and the PersistentVolumeClaims of removed pods. The ClusterRole NAME-nodes lets it list Nodes for their zones; without it redisctl works, warns once that zones are unknown, and spreads replicas over Kubernetes nodes only. With --service-account the ServiceAccount and both bindings are printed too. Every command checks the same permissions before it changes anything, and refuses naming what is missing.`
  static override examples = [
    '<%= config.bin %> rbac -n redis --service-account ci | kubectl apply -f -',
    '<%= config.bin %> rbac -n redis --no-nodes -o json',
  ]

  static override flags = {
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
    namespace: Flags.string({char: 'n', description: 'Namespace of the Role (default: the context\'s namespace, else "default").'}),
    name: Flags.string({description: 'Name of the Role and RoleBinding; the ClusterRole is NAME-nodes.', default: 'redisctl'}),
    'service-account': Flags.string({description: 'Also print this ServiceAccount and bind both roles to it.'}),
    nodes: Flags.boolean({description: 'Include the ClusterRole for reading Nodes (zones).', default: true, allowNo: true}),
    output: Flags.option({char: 'o', description: 'Output format.', options: ['yaml', 'json'] as const, default: 'yaml'})(),
  }

  async run(): Promise<RbacResult> {
    const {flags} = await this.parse(Rbac)
    const namespace = flags.namespace ?? await contextNamespace(flags)
    const objects = rbacManifests({name: flags.name, namespace, serviceAccount: flags['service-account'], nodes: flags.nodes})
    const list: RbacResult = {apiVersion: 'v1', kind: 'List', items: objects.map((o) => o.object)}
    if (flags.output === 'json') this.log(JSON.stringify(list, null, 2))
    else {
      const {commentedYamlStream} = await import('../cli/yaml.js')
      this.log(commentedYamlStream(objects).trimEnd())
    }
    return list
  }
}

/** The kubeconfig context's namespace, as the other commands default to it; "default" without a usable kubeconfig. */
async function contextNamespace(target: {kubeconfig?: string; context?: string}): Promise<string> {
  const {loadKubeConfig} = await import('../kube/context.js')
  try {
    const kc = loadKubeConfig(target)
    return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default'
  } catch {
    return 'default'
  }
}

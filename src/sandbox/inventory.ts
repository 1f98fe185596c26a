import {CoreV1Api, KubeConfig} from '@kubernetes/client-node'

import {kubeCall} from '../kube/api-errors.js'

export interface SandboxNode {
  name: string
  zone?: string
  ready: boolean
}

export interface SandboxPod {
  namespace: string
  name: string
  node?: string
  ip?: string
  phase: string
  ready: boolean
}

/** The sandbox's nodes and pods as its API reports them. */
export async function sandboxInventory(kubeconfig: string): Promise<{nodes: SandboxNode[]; pods: SandboxPod[]}> {
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfig)
  const core = kc.makeApiClient(CoreV1Api)
  const server = kc.getCurrentCluster()?.server
  const [nodes, pods] = await Promise.all([
    kubeCall('listing nodes', () => core.listNode(), server),
    kubeCall('listing pods', () => core.listPodForAllNamespaces(), server),
  ])
  const isReady = (conditions?: Array<{type: string; status: string}>): boolean =>
    conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
  return {
    nodes: nodes.items.map((n) => ({
      name: n.metadata?.name ?? '',
      zone: n.metadata?.labels?.['topology.kubernetes.io/zone'],
      ready: isReady(n.status?.conditions),
    })),
    pods: pods.items.map((p) => ({
      namespace: p.metadata?.namespace ?? '',
      name: p.metadata?.name ?? '',
      node: p.spec?.nodeName,
      ip: p.status?.podIP,
      phase: p.status?.phase ?? 'Pending',
      ready: isReady(p.status?.conditions),
    })),
  }
}

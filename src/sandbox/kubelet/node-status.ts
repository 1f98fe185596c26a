import type {V1Node} from '@kubernetes/client-node'

/** A Node object as a kubelet registers it when it does not exist yet. */
export function nodeToRegister(name: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {name, labels: {'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch}},
  }
}

const CONDITIONS = [
  {type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available'},
  {type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure'},
  {type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available'},
  {type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status'},
]

/**
 * The node status a heartbeat sends: Ready and no pressure, its InternalIP and the port of the kubelet's HTTPS
 * server there (where kube-apiserver proxies port-forwards to), capacity. lastTransitionTime stays at the
 * kubelet's start; lastHeartbeatTime is now.
 */
export function nodeStatusPatch(name: string, endpoint: {ip: string; port: number}, since: Date, now: Date): {status: Record<string, unknown>} {
  const resources = {cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '50Gi'}
  return {
    status: {
      conditions: CONDITIONS.map((c) => ({...c, lastHeartbeatTime: now.toISOString(), lastTransitionTime: since.toISOString()})),
      addresses: [
        {type: 'InternalIP', address: endpoint.ip},
        {type: 'Hostname', address: name},
      ],
      capacity: resources,
      allocatable: resources,
      daemonEndpoints: {kubeletEndpoint: {Port: endpoint.port}},
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: '',
        osImage: 'redisctl sandbox',
        containerRuntimeVersion: 'sandbox://redis-server',
        kubeletVersion: 'v1.26.0-sandbox',
        kubeProxyVersion: 'v1.26.0-sandbox',
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    },
  }
}

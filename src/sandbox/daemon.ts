import {randomBytes} from 'node:crypto'
import {mkdir, rm, writeFile} from 'node:fs/promises'

import {CoreV1Api, KubeConfig} from '@kubernetes/client-node'

import {CONTROLLER_MANAGER, SYSTEM_NODES} from './apiserver/bootstrap-policy.js'
import {startApiServer} from './apiserver/server.js'
import {startControllers} from './controllers/index.js'
import {sandboxKubeconfig, type SandboxEndpoint} from './kubeconfig.js'
import {startKubelet} from './kubelet/index.js'
import {nodeAddresses, parseIpRange} from './kubelet/ip-range.js'
import {sandboxFiles} from './paths.js'
import {sandboxPki} from './pki.js'
import {writeState} from './state.js'

export interface SandboxOptions {
  dir: string
  nodes: number
  zones: number
  port: number
  /** Where pod IPs come from, e.g. 127.80.0.0/16: distinct per sandbox, so two sandboxes never hand out one IP. */
  podIpRange: string
  log: (line: string) => void
}

export interface RunningSandbox {
  server: string
  stop(): Promise<void>
}

export const sandboxNodeName = (i: number): string => `sandbox-node-${i + 1}`
export const sandboxZoneName = (i: number): string => `zone-${String.fromCharCode(97 + i)}`

/** The loopback kubelet's identity: one user for all the nodes it serves, in the group the system:node role is bound to. */
const KUBELET_USER = 'system:node:redisctl-sandbox'

/** An in-memory kubeconfig that presents a token to the sandbox's API server. */
function tokenKubeConfig(endpoint: SandboxEndpoint, token: string): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromString(sandboxKubeconfig(endpoint, {token}))
  return kc
}

/**
 * The whole embedded Kubernetes in one process: API server, controllers and the loopback kubelet. The last two
 * reach the first only through the Kubernetes API, as they would beside a real API server; the API server reaches
 * the kubelet only for port-forwards, over HTTPS with certificates of the sandbox's own CA, as kubeadm sets it up.
 */
export async function runSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const files = sandboxFiles(options.dir)
  await mkdir(files.volumes, {recursive: true})
  await mkdir(files.kubelet, {recursive: true})
  const nodeNames = Array.from({length: options.nodes}, (_, i) => sandboxNodeName(i))
  const nodeIps = nodeAddresses(parseIpRange(options.podIpRange), nodeNames.length)
  const pki = await sandboxPki(nodeNames, nodeIps)
  // The controllers and the kubelet each get an identity with the rights they use, as on a real control plane.
  const controllerToken = randomBytes(24).toString('hex')
  const kubeletToken = randomBytes(24).toString('hex')
  const api = await startApiServer({port: options.port, log: options.log, tls: pki, kubeletClient: {ca: pki.ca, ...pki.apiserverKubeletClient}, tokens: [
    {token: controllerToken, user: CONTROLLER_MANAGER},
    {token: kubeletToken, user: KUBELET_USER, groups: [SYSTEM_NODES]},
  ]})
  const stops: Array<() => Promise<void>> = [() => api.close()]
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch((error: unknown) => options.log(`stop: ${String(error)}`))
    await rm(files.state, {force: true})
  }
  try {
    const endpoint = {server: api.url, ca: api.ca}
    await writeFile(files.kubeconfig, sandboxKubeconfig(endpoint, {token: api.adminToken}), {mode: 0o600})
    await createNodesAndNamespaces(tokenKubeConfig(endpoint, api.adminToken), nodeNames, options.zones)
    const controllers = await startControllers(tokenKubeConfig(endpoint, controllerToken), {volumeRoot: files.volumes, log: options.log})
    stops.push(() => controllers.stop())
    const kubelet = await startKubelet(tokenKubeConfig(endpoint, kubeletToken), {
      nodeNames, stateDir: files.kubelet, ipRange: options.podIpRange, imageMapFile: files.imageMap, log: options.log,
      serving: {nodeIps, tls: pki.kubeletServing, clientCa: pki.ca, anonymousAuth: false},
    })
    stops.push(() => kubelet.stop())
    await writeState({
      pid: process.pid, server: api.url, port: api.port, kubeconfig: files.kubeconfig, dir: options.dir,
      nodes: options.nodes, zones: options.zones, podIpRange: options.podIpRange, startedAt: new Date().toISOString(),
    })
  } catch (error) {
    await stop()
    throw error
  }
  return {server: api.url, stop}
}

async function createNodesAndNamespaces(kc: KubeConfig, names: string[], zones: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api)
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await core.createNamespace({body: {metadata: {name}}})
  }
  await Promise.all(names.map((name, i) => core.createNode({
    body: {
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'topology.kubernetes.io/zone': sandboxZoneName(i % zones),
        },
      },
    },
  })))
}

import {type KubeConfig, ListWatch, type V1Pod, Watch} from '@kubernetes/client-node'
import {mkdir, readdir, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {UsageError} from '../../errors.js'
import {readImageMap} from './images.js'
import {IpAllocator} from './ip-allocator.js'
import {DEFAULT_POD_IP_RANGE, type IpRange, nodeAddresses, parseIpRange, podAddresses} from './ip-range.js'
import {KubeletApi} from './kube-api.js'
import {nodeStatusPatch, nodeToRegister} from './node-status.js'
import {podDirName, PodWorker} from './pod-worker.js'
import {stopStaleServers} from './process.js'
import {selfSignedServingCertificate} from './serving-cert.js'
import type {StreamingServer, StreamingServerOptions} from './streaming-server.js'

export interface KubeletOptions {
  /** The Node objects this kubelet serves; registered when missing. */
  nodeNames: string[]
  /** Pod runtime folders (stateDir/pods/<ns>_<name>_<uid>/), logs, the pod-IP allocator's state. */
  stateDir: string
  /** Default: redis-server (else valkey-server) found on PATH. */
  redisServerPath?: string
  /** `IMAGE=PATH` lines naming the server binary an image stands for (read at every pull); see images.ts. */
  imageMapFile?: string
  /**
   * Where pod IPs come from, inside 127.0.0.0/8; default 127.64.0.0/12. Kubelets sharing a machine need distinct
   * ranges. In a /23 or wider range the last /24 is kept for the nodes' own addresses.
   */
  ipRange?: string
  serving?: ServingOptions
  log?: (line: string) => void
}

/** The kubelet's HTTPS server, where kube-apiserver proxies pods/portforward to; one per node, on the node's InternalIP. */
export interface ServingOptions {
  /** Each node's InternalIP, in nodeNames order (the kubelet's --node-ip); default .1, .2, ... of the last /24 of ipRange. */
  nodeIps?: string[]
  /** Where to listen instead of the node's InternalIP (the kubelet's --address); only for a kubelet of one node. */
  address?: string
  /** Default 10250; 0 picks a free port. The Node's status.daemonEndpoints.kubeletEndpoint.Port says which. */
  port?: number
  /** Serving certificate and key, PEM (--tls-cert-file, --tls-private-key-file); default a self-signed one kept in certDir. */
  tls?: {cert: string; key: string}
  /** Default stateDir/pki. */
  certDir?: string
  /** PEM CA bundle that authenticates callers by client certificate (--client-ca-file). */
  clientCa?: string
  /** Let callers without a client certificate in as system:anonymous (--anonymous-auth); default true, as the kubelet's flag. */
  anonymousAuth?: boolean
}

export interface Kubelet {
  /** Stops every redis-server this kubelet started (SIGTERM, then SIGKILL), and its watches and heartbeats. */
  stop(): Promise<void>
}

const DEFAULT_KUBELET_PORT = 10250
const HEARTBEAT_MS = 5000
const SHUTDOWN_GRACE_MS = 5000
const WATCH_RETRY_MS = 500

/**
 * A loopback kubelet: every pod bound to one of its nodes runs as real redis-server processes on a pod IP of
 * its own, and its status goes back through the Kubernetes API (pods/status, events, pod deletion). It is an
 * ordinary API client, so it runs beside the sandbox's API server or a real one alike.
 */
export async function startKubelet(kc: KubeConfig, options: KubeletOptions): Promise<Kubelet> {
  if (options.nodeNames.length === 0) throw new UsageError('The kubelet needs at least one node name.')
  const log = options.log ?? (() => {})
  const podsDir = join(options.stateDir, 'pods')
  await mkdir(podsDir, {recursive: true})
  const stale = await stopStaleServers(podsDir, SHUTDOWN_GRACE_MS)
  if (stale.length > 0) log(`kubelet: stopped ${stale.length} redis-server process(es) left by a previous kubelet`)
  const range = parseIpRange(options.ipRange ?? DEFAULT_POD_IP_RANGE)
  const nodeIps = nodeIpsOf(options.nodeNames, range, options.serving)
  const allocator = await IpAllocator.open(join(options.stateDir, 'pod-ips.json'), podAddresses(range))
  const api = new KubeletApi(kc, join(options.stateDir, 'volumes'))
  for (const name of options.nodeNames) {
    if (!(await api.node(name))) await api.registerNode(nodeToRegister(name))
  }

  const workers = new Map<string, PodWorker>()
  // The newest incarnation of a pod wins: the worker of one just deleted may still be stopping.
  const podOnNode = (nodeName: string) => (namespace: string, name: string) =>
    [...workers.values()].findLast((w) => w.nodeName === nodeName && w.name === `${namespace}/${name}`)?.endpoint()
  const servers = await startStreamingServers(options, nodeIps, podOnNode, log)
  const since = new Date()
  const heartbeat = async () => {
    await Promise.all(
      options.nodeNames.map((name, i) =>
        api.patchNodeStatus(name, nodeStatusPatch(name, {ip: nodeIps[i], port: servers[i].port}, since, new Date()))
          .catch((error: unknown) => log(`kubelet: node ${name} heartbeat failed: ${String(error)}`)),
      ),
    )
  }
  await heartbeat()
  const heartbeats = setInterval(() => void heartbeat(), HEARTBEAT_MS)

  const imageMap = () => readImageMap(options.imageMapFile, log)
  let stopping = false
  const onPod = (nodeName: string) => (pod: V1Pod) => {
    const uid = pod.metadata?.uid
    if (stopping || !uid || pod.spec?.nodeName !== nodeName) return
    let worker = workers.get(uid)
    if (!worker) {
      for (const other of workers.values()) {
        if (other.name === `${pod.metadata?.namespace}/${pod.metadata?.name}`) void forget(other)
      }
      worker = new PodWorker(pod, {api, allocator, nodeName, hostIp: nodeIps[options.nodeNames.indexOf(nodeName)], podsDir, redisServerPath: options.redisServerPath, imageMap, log})
      workers.set(uid, worker)
    }
    void worker.update(pod)
  }
  const forget = async (worker: PodWorker) => {
    await worker.gone()
    workers.delete(worker.uid)
  }
  const onGone = (pod: V1Pod) => {
    const worker = workers.get(pod.metadata?.uid ?? '')
    if (worker && !stopping) void forget(worker)
  }

  // start() is not awaited: it resolves only once the watch response has begun, which an API server may delay
  // until the first event; list and watch failures arrive through the error handler. A watch that begins after
  // stop() is stopped then, as stop() could not abort it yet.
  const startWatching = (informer: ListWatch<V1Pod>) => {
    if (stopping) return
    void informer.start().then(() => {
      if (stopping) void informer.stop()
    })
  }

  // Folders and leases of pods deleted while no kubelet ran go first, before any pod is started.
  try {
    const listed = await Promise.all(options.nodeNames.map((nodeName) => api.listPodsOnNode(nodeName)))
    await collectGarbage(podsDir, allocator, new Set(listed.flatMap((list) => list.items.map(podDirName))))
  } catch (error) {
    clearInterval(heartbeats)
    await Promise.all(servers.map((server) => server.close()))
    throw error
  }

  const informers = options.nodeNames.map((nodeName) => {
    const informer = new ListWatch<V1Pod>('/api/v1/pods', new Watch(kc), () => api.listPodsOnNode(nodeName), false, undefined, `spec.nodeName=${nodeName}`)
    informer.on('add', onPod(nodeName))
    informer.on('update', onPod(nodeName))
    informer.on('delete', onGone)
    informer.on('error', (error: unknown) => {
      if (stopping) return
      log(`kubelet: watch of pods on ${nodeName} failed (${String(error)}); retrying`)
      setTimeout(() => startWatching(informer), WATCH_RETRY_MS)
    })
    startWatching(informer)
    return informer
  })

  return {
    async stop() {
      stopping = true
      clearInterval(heartbeats)
      await Promise.all(informers.map((informer) => informer.stop()))
      await Promise.all(servers.map((server) => server.close()))
      await Promise.all([...workers.values()].map((worker) => worker.shutdown(SHUTDOWN_GRACE_MS)))
      workers.clear()
    },
  }
}

function nodeIpsOf(nodeNames: string[], range: IpRange, serving: ServingOptions = {}): string[] {
  if (!serving.nodeIps) return nodeAddresses(range, nodeNames.length)
  if (serving.nodeIps.length !== nodeNames.length) {
    throw new UsageError(`The kubelet has ${nodeNames.length} node(s) but ${serving.nodeIps.length} node IP(s).`, ['Give one node IP per node, in the same order.'])
  }
  return serving.nodeIps
}

/** One HTTPS server per node, on the node's InternalIP (or the one address given for a kubelet of one node). */
async function startStreamingServers(options: KubeletOptions, nodeIps: string[], podOnNode: (nodeName: string) => StreamingServerOptions['findPod'], log: (line: string) => void): Promise<StreamingServer[]> {
  const serving = options.serving ?? {}
  if (serving.address && options.nodeNames.length > 1) {
    throw new UsageError('One listening address serves one node only, and this kubelet has several.', ['Leave the address out: each node then serves on its own IP.'])
  }
  // Loaded here, not at the top: `sandbox up` and `down` import this module for stopLeftoverServers alone.
  const {startStreamingServer} = await import('./streaming-server.js')
  const tls = serving.tls ?? await selfSignedServingCertificate(serving.certDir ?? join(options.stateDir, 'pki'), options.nodeNames, nodeIps)
  const servers: StreamingServer[] = []
  try {
    for (const [i, nodeName] of options.nodeNames.entries()) {
      servers.push(await startStreamingServer({
        ...tls,
        address: serving.address ?? nodeIps[i],
        port: serving.port ?? DEFAULT_KUBELET_PORT,
        clientCa: serving.clientCa,
        anonymousAuth: serving.anonymousAuth ?? true,
        findPod: podOnNode(nodeName),
        log,
      }))
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()))
    throw error
  }
  return servers
}

/** Removes the runtime folders and IP leases of pods that no longer exist (deleted while no kubelet ran). */
async function collectGarbage(podsDir: string, allocator: IpAllocator, live: Set<string>): Promise<void> {
  const liveUids = new Set([...live].map((dir) => dir.split('_').pop()!))
  for (const dir of await readdir(podsDir)) {
    if (!live.has(dir)) await rm(join(podsDir, dir), {recursive: true, force: true})
  }
  await allocator.release(allocator.leasedUids().filter((uid) => !liveUids.has(uid)))
}

/** Stops redis-servers a killed kubelet left behind in stateDir (used by `sandbox down` after a crash). */
export async function stopLeftoverServers(stateDir: string): Promise<number[]> {
  return stopStaleServers(join(stateDir, 'pods'), SHUTDOWN_GRACE_MS)
}

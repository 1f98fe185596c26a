import {type KubeConfig, ListWatch, type V1Pod, Watch} from '@kubernetes/client-node'
import {mkdir, readdir, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {UsageError} from '../../errors.js'
import {readImageMap} from './images.js'
import {IpAllocator} from './ip-allocator.js'
import {DEFAULT_POD_IP_RANGE, parseIpRange} from './ip-range.js'
import {KubeletApi} from './kube-api.js'
import {hostIpOf, nodeStatusPatch, nodeToRegister} from './node-status.js'
import {podDirName, PodWorker} from './pod-worker.js'
import {stopStaleServers} from './process.js'

export interface KubeletOptions {
  /** The Node objects this kubelet serves; registered when missing. */
  nodeNames: string[]
  /** Pod runtime folders (stateDir/pods/<ns>_<name>_<uid>/), logs, the pod-IP allocator's state. */
  stateDir: string
  /** Default: redis-server (else valkey-server) found on PATH. */
  redisServerPath?: string
  /** `IMAGE=PATH` lines naming the server binary an image stands for (read at every pull); see images.ts. */
  imageMapFile?: string
  /** Where pod IPs come from, inside 127.0.0.0/8; default 127.64.0.0/12. Kubelets sharing a machine need distinct ranges. */
  ipRange?: string
  log?: (line: string) => void
}

export interface Kubelet {
  /** Stops every redis-server this kubelet started (SIGTERM, then SIGKILL), and its watches and heartbeats. */
  stop(): Promise<void>
}

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
  const allocator = await IpAllocator.open(join(options.stateDir, 'pod-ips.json'), parseIpRange(options.ipRange ?? DEFAULT_POD_IP_RANGE))
  const api = new KubeletApi(kc, join(options.stateDir, 'volumes'))

  const hostIps = new Map<string, string>()
  for (const [index, name] of options.nodeNames.entries()) {
    let node = await api.node(name)
    if (!node) {
      await api.registerNode(nodeToRegister(name))
      node = await api.node(name)
    }
    hostIps.set(name, hostIpOf(node, index))
  }
  const since = new Date()
  const heartbeat = async () => {
    await Promise.all(
      options.nodeNames.map((name) =>
        api.patchNodeStatus(name, nodeStatusPatch(name, hostIps.get(name)!, since, new Date())).catch((error: unknown) => log(`kubelet: node ${name} heartbeat failed: ${String(error)}`)),
      ),
    )
  }
  await heartbeat()
  const heartbeats = setInterval(() => void heartbeat(), HEARTBEAT_MS)

  const imageMap = () => readImageMap(options.imageMapFile, log)
  const workers = new Map<string, PodWorker>()
  let stopping = false
  const onPod = (nodeName: string) => (pod: V1Pod) => {
    const uid = pod.metadata?.uid
    if (stopping || !uid || pod.spec?.nodeName !== nodeName) return
    let worker = workers.get(uid)
    if (!worker) {
      for (const other of workers.values()) {
        if (other.name === `${pod.metadata?.namespace}/${pod.metadata?.name}`) void forget(other)
      }
      worker = new PodWorker(pod, {api, allocator, nodeName, hostIp: hostIps.get(nodeName)!, podsDir, redisServerPath: options.redisServerPath, imageMap, log})
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
  const listed = await Promise.all(options.nodeNames.map((nodeName) => api.listPodsOnNode(nodeName)))
  await collectGarbage(podsDir, allocator, new Set(listed.flatMap((list) => list.items.map(podDirName))))

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
      await Promise.all([...workers.values()].map((worker) => worker.shutdown(SHUTDOWN_GRACE_MS)))
      workers.clear()
    },
  }
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

import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AppsV1Api, CoreV1Api, KubeConfig, makeInformer, PatchStrategy, setHeaderOptions, type V1Pod, type V1StatefulSet} from '@kubernetes/client-node'

import {startApiServer} from '../../src/sandbox/apiserver/server.js'
import {startControllers} from '../../src/sandbox/controllers/index.js'
import {sandboxKubeconfig} from '../../src/sandbox/kubeconfig.js'

/**
 * STAND-IN FOR THE KUBELET, for the controller tests only. The real loopback kubelet (src/sandbox/kubelet)
 * runs every pod as a real redis-server and has its own tests; here the controllers are under test, so this
 * does only the two things a kubelet does that the control loops depend on, through the API like a kubelet:
 * it marks pods bound to a node Running and Ready (status subresource, strategic merge patch), and deletes
 * terminating pods with grace period 0. It records when it first saw each pod and when it asked for
 * readiness, so that tests can check the order in which the controllers acted.
 */
export interface KubeletStandIn {
  /** Namespaces whose pods are run but never become Ready. */
  keepUnready: Set<string>
  /** ms timestamp at which each pod (by uid) was first seen, and at which it was about to be made Ready. */
  firstSeen: Map<string, number>
  readyRequested: Map<string, number>
  stop(): Promise<void>
}

const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)

export async function startKubeletStandIn(kc: KubeConfig, options: {readyDelayMs?: number} = {}): Promise<KubeletStandIn> {
  const core = kc.makeApiClient(CoreV1Api)
  const informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces())
  const handled = new Set<string>()
  const timers = new Set<NodeJS.Timeout>()
  const pending = new Set<Promise<unknown>>()
  const track = (work: Promise<unknown>) => {
    const settled = work.catch(() => undefined)
    pending.add(settled)
    void settled.finally(() => pending.delete(settled))
  }
  const standIn: KubeletStandIn = {
    keepUnready: new Set(),
    firstSeen: new Map(),
    readyRequested: new Map(),
    async stop() {
      await informer.stop()
      for (const timer of timers) clearTimeout(timer)
      await Promise.all([...pending])
    },
  }

  const makeReady = (pod: V1Pod) => {
    const {namespace = '', name = '', uid = ''} = pod.metadata ?? {}
    const ready = !standIn.keepUnready.has(namespace)
    if (ready) standIn.readyRequested.set(uid, Date.now())
    const now = new Date()
    const condition = (type: string, status: boolean) => ({type, status: status ? 'True' : 'False', lastTransitionTime: now})
    track(
      core.patchNamespacedPodStatus(
        {
          namespace,
          name,
          body: {
            status: {
              phase: 'Running',
              startTime: now,
              conditions: [condition('Initialized', true), condition('ContainersReady', ready), condition('Ready', ready)],
              containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
                name: c.name,
                image: c.image,
                imageID: '',
                ready,
                restartCount: 0,
                started: true,
                state: {running: {startedAt: now}},
              })),
            },
          },
        },
        strategicMergePatch,
      ),
    )
  }

  const onPod = (pod: V1Pod) => {
    const uid = pod.metadata?.uid ?? ''
    if (!standIn.firstSeen.has(uid)) standIn.firstSeen.set(uid, Date.now())
    if (!pod.spec?.nodeName) return
    if (pod.metadata?.deletionTimestamp) {
      if (handled.has(`deleted:${uid}`)) return
      handled.add(`deleted:${uid}`)
      const {namespace = '', name = ''} = pod.metadata
      track(core.deleteNamespacedPod({namespace, name, gracePeriodSeconds: 0}))
      return
    }
    if (handled.has(`started:${uid}`) || pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') return
    handled.add(`started:${uid}`)
    if (!options.readyDelayMs) return makeReady(pod)
    const timer = setTimeout(() => {
      timers.delete(timer)
      makeReady(pod)
    }, options.readyDelayMs)
    timers.add(timer)
  }
  informer.on('add', onPod)
  informer.on('update', onPod)
  await informer.start()
  return standIn
}

/** Polls every 20 ms until probe returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * The sandbox's API server and controllers on three nodes in three zones, with the kubelet stand-in, for the
 * controller tests. Each test takes a namespace of its own.
 */
export interface ControlPlane {
  dir: string
  kubeconfig: string
  kc: KubeConfig
  core: CoreV1Api
  apps: AppsV1Api
  kubelet: KubeletStandIn
  namespace(): Promise<string>
  stop(): Promise<void>
}

export const NODES = ['node-a', 'node-b', 'node-c'].map((name, i) => ({name, zone: `zone-${'abc'[i]}`}))

export async function startControlPlane(): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'redisctl-controllers-'))
  const stops: Array<() => Promise<void>> = []
  const api = await startApiServer({host: '127.0.0.1', port: 0})
  stops.push(() => api.close())
  const kubeconfig = join(dir, 'kubeconfig')
  await writeFile(kubeconfig, sandboxKubeconfig({server: api.url, ca: api.ca}, {token: api.adminToken}))
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfig)
  const core = kc.makeApiClient(CoreV1Api)
  await Promise.all(
    NODES.map(({name, zone}) =>
      core.createNode({
        body: {
          metadata: {name, labels: {'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone}},
          status: {allocatable: {cpu: '4', memory: '8Gi', pods: '110'}, capacity: {cpu: '4', memory: '8Gi', pods: '110'}},
        },
      }),
    ),
  )
  const controllers = await startControllers(kc, {volumeRoot: join(dir, 'volumes')})
  stops.push(() => controllers.stop())
  const kubelet = await startKubeletStandIn(kc, {readyDelayMs: 30})
  stops.push(() => kubelet.stop())
  let namespaces = 0
  return {
    dir, kubeconfig, kc, core, kubelet,
    apps: kc.makeApiClient(AppsV1Api),
    async namespace() {
      const name = `t${++namespaces}`
      await core.createNamespace({body: {metadata: {name}}})
      return name
    },
    async stop() {
      for (const stop of stops.reverse()) await stop()
      await rm(dir, {recursive: true, force: true})
    },
  }
}

export interface RedisSetOptions {
  replicas: number
  parallel?: boolean
  retention?: 'Delete'
  antiAffinity?: boolean
  storageClass?: string
  updateStrategy?: NonNullable<V1StatefulSet['spec']>['updateStrategy']
  revisionHistoryLimit?: number
  image?: string
}

/** A StatefulSet `redis` of redis pods with one claim each, as the controller tests deploy it. */
export function redisSet(options: RedisSetOptions): V1StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {name: 'redis'},
    spec: {
      replicas: options.replicas,
      serviceName: 'redis-headless',
      podManagementPolicy: options.parallel ? 'Parallel' : 'OrderedReady',
      selector: {matchLabels: {app: 'redis'}},
      template: {
        metadata: {labels: {app: 'redis'}},
        spec: {
          containers: [{name: 'redis', image: options.image ?? 'redis:7.0'}],
          ...(options.antiAffinity
            ? {affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: 'kubernetes.io/hostname', labelSelector: {matchLabels: {app: 'redis'}}}]}}}
            : {}),
        },
      },
      volumeClaimTemplates: [
        {
          metadata: {name: 'data'},
          spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}, ...(options.storageClass ? {storageClassName: options.storageClass} : {})},
        },
      ],
      ...(options.retention ? {persistentVolumeClaimRetentionPolicy: {whenDeleted: 'Delete', whenScaled: 'Delete'}} : {}),
      ...(options.updateStrategy ? {updateStrategy: options.updateStrategy} : {}),
      ...(options.revisionHistoryLimit !== undefined ? {revisionHistoryLimit: options.revisionHistoryLimit} : {}),
    },
  }
}

export async function podNames(plane: ControlPlane, ns: string): Promise<string[]> {
  const pods = await plane.core.listNamespacedPod({namespace: ns})
  return pods.items.map((p) => p.metadata!.name!).sort()
}

/** Waits until the StatefulSet's status says `replicas` pods, all Ready, for the current generation. */
export async function allReady(plane: ControlPlane, ns: string, replicas: number, timeoutMs = 5000): Promise<V1StatefulSet> {
  return waitFor(
    `${replicas} ready replicas in ${ns}`,
    async () => {
      const set = await plane.apps.readNamespacedStatefulSet({namespace: ns, name: 'redis'})
      const s = set.status
      const settled = s?.observedGeneration === set.metadata?.generation && s?.replicas === replicas && s?.readyReplicas === replicas
      return settled && (await podNames(plane, ns)).length === replicas ? set : undefined
    },
    timeoutMs,
  )
}

import {
  AppsV1Api,
  CoreV1Api,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
  type ObjectCache,
  StorageV1Api,
  type V1ControllerRevision,
  type V1Node,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1StatefulSet,
  type V1StorageClass,
} from '@kubernetes/client-node'

import {KubeUnreachableError} from '../../errors.js'

export type SharedInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>

/**
 * One list+watch per resource, shared by every controller (as kube-controller-manager shares its informers).
 * Handlers are registered before start() so that the initial list reaches them as ADD events.
 */
export interface Informers {
  pods: SharedInformer<V1Pod>
  claims: SharedInformer<V1PersistentVolumeClaim>
  volumes: SharedInformer<V1PersistentVolume>
  nodes: SharedInformer<V1Node>
  statefulSets: SharedInformer<V1StatefulSet>
  revisions: SharedInformer<V1ControllerRevision>
  storageClasses: SharedInformer<V1StorageClass>
  start(): Promise<void>
  stop(): Promise<void>
}

const FIRST_RESTART_MS = 50
const MAX_RESTART_MS = 2000
/** A watch answers with its headers at once on a real API server; one that does not is not usable. */
const START_TIMEOUT_MS = 10_000

export function createInformers(kc: KubeConfig, log: (line: string) => void): Informers {
  const core = kc.makeApiClient(CoreV1Api)
  const apps = kc.makeApiClient(AppsV1Api)
  const storage = kc.makeApiClient(StorageV1Api)
  const managed: ManagedInformer<KubernetesObject>[] = []
  const make = <T extends KubernetesObject>(path: string, list: () => Promise<KubernetesListObject<T>>): SharedInformer<T> => {
    const informer = new ManagedInformer<T>(kc, path, list, log)
    managed.push(informer as unknown as ManagedInformer<KubernetesObject>)
    return informer.informer
  }
  return {
    pods: make('/api/v1/pods', () => core.listPodForAllNamespaces()),
    claims: make('/api/v1/persistentvolumeclaims', () => core.listPersistentVolumeClaimForAllNamespaces()),
    volumes: make('/api/v1/persistentvolumes', () => core.listPersistentVolume()),
    nodes: make('/api/v1/nodes', () => core.listNode()),
    statefulSets: make('/apis/apps/v1/statefulsets', () => apps.listStatefulSetForAllNamespaces()),
    revisions: make('/apis/apps/v1/controllerrevisions', () => apps.listControllerRevisionForAllNamespaces()),
    storageClasses: make('/apis/storage.k8s.io/v1/storageclasses', () => storage.listStorageClass()),
    async start() {
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS)))
      const outcome = await Promise.race([Promise.all(managed.map((m) => m.start())).then(() => 'started' as const), deadline])
      clearTimeout(timer)
      if (outcome === 'timeout') {
        await this.stop()
        throw new KubeUnreachableError(`the API server at ${kc.getCurrentCluster()?.server} did not open its watches within ${START_TIMEOUT_MS / 1000} s`)
      }
      const failed = managed.find((m) => !m.synced)
      if (failed) {
        await this.stop()
        throw new KubeUnreachableError(`could not list ${failed.path} from ${kc.getCurrentCluster()?.server}`, [], {cause: failed.lastError})
      }
    },
    async stop() {
      await Promise.all(managed.map((m) => m.stop()))
    },
  }
}

/**
 * client-node's ListWatch gives up after a failed list or an unexpected watch error; a controller must not.
 * This restarts it with a short growing delay until stop().
 */
class ManagedInformer<T extends KubernetesObject> {
  readonly informer: SharedInformer<T>
  synced = false
  lastError: unknown
  private stopped = false
  private restartDelay = FIRST_RESTART_MS
  private restartTimer: NodeJS.Timeout | undefined

  constructor(kc: KubeConfig, readonly path: string, list: () => Promise<KubernetesListObject<T>>, private readonly log: (line: string) => void) {
    this.informer = makeInformer<T>(kc, path, async () => {
      const result = await list()
      this.synced = true
      this.restartDelay = FIRST_RESTART_MS
      return result
    })
    this.informer.on('error', (error) => this.onError(error))
  }

  async start(): Promise<void> {
    await this.informer.start()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.restartTimer)
    await this.informer.stop()
  }

  private onError(error: unknown): void {
    this.lastError = error
    if (this.stopped || this.restartTimer) return
    this.log(`watch ${this.path} failed, retrying in ${this.restartDelay} ms: ${error instanceof Error ? error.message : String(error)}`)
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined
      if (!this.stopped) void this.informer.start()
    }, this.restartDelay)
    this.restartDelay = Math.min(this.restartDelay * 2, MAX_RESTART_MS)
  }
}

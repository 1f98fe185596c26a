import {
  ApiException,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Node,
  type V1Pod,
  type V1Secret,
} from '@kubernetes/client-node'
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'

const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

export const isStatus = (error: unknown, code: number): boolean => error instanceof ApiException && error.code === code

/** The Kubernetes API calls a kubelet makes, and nothing else: it never touches an API server's memory. */
export class KubeletApi {
  private readonly core: CoreV1Api
  /** Events recorded, by pod uid, container, type, reason and message: a repeat counts up the same Event. */
  private readonly recorded = new Map<string, {name: string; count: number}>()

  constructor(
    kc: KubeConfig,
    /** Host folder for a bound PV that has no hostPath/local path (a PV from some other provisioner). */
    private readonly volumesDir: string,
  ) {
    this.core = kc.makeApiClient(CoreV1Api)
  }

  listPodsOnNode(nodeName: string) {
    return this.core.listPodForAllNamespaces({fieldSelector: `spec.nodeName=${nodeName}`})
  }

  async patchPodStatus(pod: V1Pod, body: object): Promise<void> {
    await this.core.patchNamespacedPodStatus({name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body}, strategicMerge)
  }

  /** Removes a pod whose containers are gone, for this incarnation only (uid precondition). */
  async deletePod(pod: V1Pod): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({
        name: pod.metadata!.name!,
        namespace: pod.metadata!.namespace!,
        gracePeriodSeconds: 0,
        body: {gracePeriodSeconds: 0, preconditions: {uid: pod.metadata!.uid}},
      })
    } catch (error) {
      if (!isStatus(error, 404) && !isStatus(error, 409)) throw error
    }
  }

  /**
   * Records an event as client-go's recorder does: a repeat of the same event (same object, container, type, reason
   * and message) counts up the Event already written and moves its lastTimestamp, as `kubectl describe` shows
   * with "(x4 over 94s)".
   */
  async recordEvent(pod: V1Pod, nodeName: string, type: 'Normal' | 'Warning', reason: string, message: string, container?: string): Promise<void> {
    const now = new Date()
    const namespace = pod.metadata!.namespace!
    const key = [pod.metadata!.uid, container ?? '', type, reason, message].join('|')
    const seen = this.recorded.get(key)
    if (seen) {
      seen.count += 1
      try {
        await this.core.patchNamespacedEvent({namespace, name: seen.name, body: {count: seen.count, lastTimestamp: now}}, mergePatch)
        return
      } catch (error) {
        if (!isStatus(error, 404)) throw error
      }
    }
    const name = `${pod.metadata!.name}.${randomBytes(8).toString('hex')}`
    this.recorded.set(key, {name, count: 1})
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: {name, namespace},
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: pod.metadata!.name,
          namespace,
          uid: pod.metadata!.uid,
          fieldPath: container ? `spec.containers{${container}}` : undefined,
        },
        type,
        reason,
        message,
        source: {component: 'kubelet', host: nodeName},
        reportingComponent: 'kubelet',
        reportingInstance: nodeName,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    })
  }

  /** Forgets the events of a pod incarnation that is gone. */
  forgetEvents(uid: string): void {
    for (const key of this.recorded.keys()) if (key.startsWith(`${uid}|`)) this.recorded.delete(key)
  }

  configMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    return orUndefined(this.core.readNamespacedConfigMap({name, namespace}))
  }

  secret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return orUndefined(this.core.readNamespacedSecret({name, namespace}))
  }

  /**
   * The host folder of a claim's bound PV: its hostPath or local path, else a folder of the kubelet named
   * after the PV. Undefined while the claim is missing or not bound yet.
   */
  async claimPath(namespace: string, claimName: string): Promise<string | undefined> {
    const claim = await orUndefined(this.core.readNamespacedPersistentVolumeClaim({name: claimName, namespace}))
    const volumeName = claim?.spec?.volumeName
    if (!volumeName || (claim.status?.phase && claim.status.phase !== 'Bound')) return undefined
    const volume = await orUndefined(this.core.readPersistentVolume({name: volumeName}))
    if (!volume) return undefined
    return volume.spec?.hostPath?.path ?? volume.spec?.local?.path ?? join(this.volumesDir, volumeName)
  }

  node(name: string): Promise<V1Node | undefined> {
    return orUndefined(this.core.readNode({name}))
  }

  async registerNode(node: V1Node): Promise<void> {
    try {
      await this.core.createNode({body: node})
    } catch (error) {
      if (!isStatus(error, 409)) throw error
    }
  }

  async patchNodeStatus(name: string, body: object): Promise<void> {
    await this.core.patchNodeStatus({name, body}, strategicMerge)
  }
}

async function orUndefined<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request
  } catch (error) {
    if (isStatus(error, 404)) return undefined
    throw error
  }
}

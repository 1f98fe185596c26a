import {CoreV1Api, type KubeConfig, type V1Pod} from '@kubernetes/client-node'

import {EventRecorder, objectKey, splitKey, strategicMergePatch, tolerate} from './api.js'
import type {Informers} from './informers.js'
import {isFinished} from './pod-state.js'
import {claimsReadiness, preFilterFitError, schedule} from './scheduler-plan.js'
import {WorkQueue} from './workqueue.js'

const SCHEDULER_NAME = 'default-scheduler'

/**
 * Binds pending pods to nodes through pods/binding, as kube-scheduler does. One pod at a time, so that each
 * decision sees the previous ones: a bound pod is "assumed" on its node until the watch shows the binding.
 * A pod waits (silently) while the provisioner binds its claims; an unschedulable pod (claims missing or unbound,
 * no node that fits) gets PodScheduled=False and a FailedScheduling event, and is tried again whenever a pod goes
 * away, a node changes or one of its claims does.
 */
export class Scheduler {
  private readonly core: CoreV1Api
  private readonly events: EventRecorder
  private readonly queue: WorkQueue
  private readonly assumed = new Map<string, V1Pod>()
  private readonly unschedulable = new Set<string>()

  constructor(
    kc: KubeConfig,
    private readonly informers: Informers,
    private readonly log: (line: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api)
    this.events = new EventRecorder(this.core, SCHEDULER_NAME, log)
    this.queue = new WorkQueue((key) => this.scheduleOne(key), {
      concurrency: 1,
      onError: (key, error) => log(`scheduling ${key}: ${error instanceof Error ? error.message : String(error)}`),
    })
    informers.pods.on('add', (pod) => this.onPod(pod))
    informers.pods.on('update', (pod) => this.onPod(pod))
    informers.pods.on('delete', (pod) => {
      const key = objectKey(pod.metadata)
      this.assumed.delete(key)
      this.unschedulable.delete(key)
      this.retryUnschedulable()
    })
    informers.nodes.on('change', () => this.retryUnschedulable())
    informers.claims.on('change', (claim) => {
      for (const pod of this.informers.pods.list(claim.metadata?.namespace)) {
        if (needsScheduling(pod) && claimNames(pod).includes(claim.metadata?.name ?? '')) this.queue.add(objectKey(pod.metadata))
      }
    })
  }

  async stop(): Promise<void> {
    await this.queue.stop()
    await this.events.flush()
  }

  private onPod(pod: V1Pod): void {
    const key = objectKey(pod.metadata)
    if (pod.spec?.nodeName) this.assumed.delete(key)
    if (needsScheduling(pod)) this.queue.add(key)
    else if (isFinished(pod)) this.retryUnschedulable()
  }

  private retryUnschedulable(): void {
    for (const key of this.unschedulable) this.queue.add(key)
  }

  private async scheduleOne(key: string): Promise<void> {
    const {namespace, name} = splitKey(key)
    const pod = this.informers.pods.get(name, namespace)
    if (!pod || !needsScheduling(pod) || this.assumed.has(key)) {
      this.unschedulable.delete(key)
      return
    }
    const nodes = this.informers.nodes.list()
    const cached = (claim: string) => this.informers.claims.get(claim, namespace)
    const uncached = claimNames(pod).filter((claim) => !cached(claim))
    // The claims' watch may lag behind the pods' (the StatefulSet controller creates claims first): ask before calling one missing.
    if (uncached.length > 0 && (await this.anyClaimExists(namespace, uncached))) return
    const volumes = claimsReadiness(claimNames(pod), cached, this.informers.storageClasses.list())
    if ('waiting' in volumes) return
    const placement = 'unschedulable' in volumes ? {unschedulable: preFilterFitError(nodes.length, volumes.unschedulable)} : schedule(pod, nodes, this.podsByNode())
    if ('unschedulable' in placement) {
      this.unschedulable.add(key)
      await this.reportUnschedulable(pod, placement.unschedulable)
      return
    }
    this.unschedulable.delete(key)
    this.assumed.set(key, {...pod, spec: {...pod.spec!, nodeName: placement.node}})
    try {
      await this.core.createNamespacedPodBinding({
        namespace,
        name,
        body: {apiVersion: 'v1', kind: 'Binding', metadata: {name, namespace}, target: {apiVersion: 'v1', kind: 'Node', name: placement.node}},
      })
    } catch (error) {
      this.assumed.delete(key)
      throw error
    }
    this.events.record({apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata}, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${placement.node}`)
  }

  private async anyClaimExists(namespace: string, names: string[]): Promise<boolean> {
    const found = await Promise.all(names.map((name) => tolerate([404], () => this.core.readNamespacedPersistentVolumeClaim({namespace, name}))))
    return found.some(Boolean)
  }

  /** Pods that occupy a node: bound (or assumed) and not finished; terminating pods still hold their place. */
  private podsByNode(): Map<string, V1Pod[]> {
    const occupying = [...this.informers.pods.list().filter((pod) => pod.spec?.nodeName && !isFinished(pod)), ...this.assumed.values()]
    return Map.groupBy(occupying, (pod) => pod.spec!.nodeName!)
  }

  private async reportUnschedulable(pod: V1Pod, message: string): Promise<void> {
    const current = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled')
    if (current?.status === 'False' && current.message === message) return
    const {namespace = '', name = ''} = pod.metadata ?? {}
    this.events.record({apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata}, 'Warning', 'FailedScheduling', message)
    await tolerate([404], () =>
      this.core.patchNamespacedPodStatus(
        {
          namespace,
          name,
          body: {status: {conditions: [{type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: new Date()}]}},
        },
        strategicMergePatch,
      ),
    )
  }
}

function needsScheduling(pod: V1Pod): boolean {
  return !pod.spec?.nodeName && !pod.metadata?.deletionTimestamp && (pod.spec?.schedulerName || SCHEDULER_NAME) === SCHEDULER_NAME && !isFinished(pod)
}

function claimNames(pod: V1Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((volume) => (volume.persistentVolumeClaim ? [volume.persistentVolumeClaim.claimName] : []))
}

import type {CoreV1Event} from '@kubernetes/client-node'

import {PodStuckError} from '../errors.js'
import {httpStatus} from './api-errors.js'
import type {Kube} from './context.js'
import type {RedisPod} from './pods.js'

/** A Warning event as the wait reports it: what happened and what the component said. */
export interface Warning {
  reason: string
  message: string
}

/** The latest Warning of each pod (by uid) and each PersistentVolumeClaim (by name). */
export interface LatestWarnings {
  pods: Map<string, Warning>
  claims: Map<string, Warning>
}

/**
 * Container states a kubelet does not leave by itself: the image will not pull until someone fixes its name or the
 * registry, and a container that keeps exiting will keep exiting. Waiting out --timeout on them only delays the answer.
 */
const STUCK_CONTAINER = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CrashLoopBackOff', 'CreateContainerConfigError'])

/** A claim of a StorageClass that does not exist is never provisioned (the PV controller's ProvisioningFailed). */
const MISSING_STORAGE_CLASS = /storageclass\.storage\.k8s\.io "[^"]*" not found/

/** Why the pod is not Ready, in one line: its own status first, then the latest Warning of the pod and of its claims. */
export function waitingReason(pod: RedisPod, warnings: LatestWarnings): string | undefined {
  const parts: string[] = []
  if (pod.hold) parts.push(pod.hold.message ? `${pod.hold.reason}: ${pod.hold.message}` : pod.hold.reason)
  const own = warnings.pods.get(pod.uid)
  if (own && !parts.some((p) => p.includes(own.message))) parts.push(`${own.reason}: ${own.message}`)
  for (const claim of pod.claims) {
    const warning = warnings.claims.get(claim)
    if (warning && pod.unscheduled) parts.push(`PersistentVolumeClaim ${claim} ${warning.reason}: ${warning.message}`)
  }
  return parts.length > 0 ? parts.join('; ') : undefined
}

/** The error that ends a wait at once, when the pod is in a state that will not resolve by itself. */
export function stuckPod(pod: RedisPod, warnings: LatestWarnings): PodStuckError | undefined {
  if (pod.hold && STUCK_CONTAINER.has(pod.hold.reason)) {
    const image = /Pull|Image/.test(pod.hold.reason)
    return new PodStuckError(pod.name, `${pod.hold.reason}${pod.hold.message ? `: ${pod.hold.message}` : ''}`, image
      ? ['Check the image name and that this cluster can pull it (kubectl describe pod ' + pod.name + ').', 'A rollout goes back with: redisctl rollout --undo.']
      : ['Read why it exits: kubectl logs ' + pod.name + ' --previous.', 'A rollout goes back with: redisctl rollout --undo.'])
  }
  if (!pod.unscheduled) return undefined
  for (const claim of pod.claims) {
    const warning = warnings.claims.get(claim)
    if (warning && MISSING_STORAGE_CLASS.test(warning.message)) {
      return new PodStuckError(pod.name, `its PersistentVolumeClaim ${claim} cannot be provisioned: ${warning.message}`, [
        'List the classes with kubectl get storageclass; remove what this attempt left (redisctl teardown --with-pvcs --yes), then create again with an existing --storage-class, or none for the default.',
      ])
    }
  }
  return undefined
}

/**
 * Reads the namespace's Warning events, at most once every `everyMs` (waits poll every 50 ms, events change far less
 * often). Events are optional: an identity that may not list them gets the reasons from the pods' status alone.
 */
export function warningReader(kube: Kube, everyMs = 1000): () => Promise<LatestWarnings> {
  let last: LatestWarnings = {pods: new Map(), claims: new Map()}
  let readAt = 0
  let allowed = true
  return async () => {
    if (!allowed || Date.now() - readAt < everyMs) return last
    readAt = Date.now()
    try {
      const events = await kube.core.listNamespacedEvent({namespace: kube.namespace, fieldSelector: 'type=Warning'})
      last = latestWarnings(events.items)
    } catch (error) {
      if (httpStatus(error) === 403) allowed = false
    }
    return last
  }
}

const eventTime = (e: CoreV1Event): number =>
  new Date(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? 0).getTime()

export function latestWarnings(events: CoreV1Event[]): LatestWarnings {
  const result: LatestWarnings = {pods: new Map(), claims: new Map()}
  const times = new Map<string, number>()
  for (const event of events) {
    const {kind, uid, name} = event.involvedObject
    const [map, key] = kind === 'Pod' ? [result.pods, uid] : kind === 'PersistentVolumeClaim' ? [result.claims, name] : [undefined, undefined]
    if (!map || !key) continue
    const at = eventTime(event)
    if ((times.get(`${kind}/${key}`) ?? -1) > at) continue
    times.set(`${kind}/${key}`, at)
    map.set(key, {reason: event.reason ?? '', message: event.message ?? ''})
  }
  return result
}

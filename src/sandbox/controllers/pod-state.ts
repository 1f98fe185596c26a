import type {V1Pod} from '@kubernetes/client-node'

import {toTime} from './api.js'

/** The pod predicates of kubernetes pkg/controller/statefulset/stateful_set_utils.go and pkg/api/v1/pod. */

export function isTerminating(pod: V1Pod): boolean {
  return Boolean(pod.metadata?.deletionTimestamp)
}

export function isFinished(pod: V1Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded'
}

export function isPending(pod: V1Pod): boolean {
  return pod.status?.phase === 'Pending'
}

function readyCondition(pod: V1Pod) {
  return pod.status?.conditions?.find((condition) => condition.type === 'Ready')
}

export function isRunningAndReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && readyCondition(pod)?.status === 'True'
}

/**
 * How long until the pod counts as available (Ready for minReadySeconds): 0 when it already does, undefined
 * when it is not ready at all.
 */
export function msUntilAvailable(pod: V1Pod, minReadySeconds: number, now: number): number | undefined {
  if (!isRunningAndReady(pod)) return undefined
  if (minReadySeconds <= 0) return 0
  const since = toTime(readyCondition(pod)?.lastTransitionTime)
  if (since === undefined) return minReadySeconds * 1000
  return Math.max(0, since + minReadySeconds * 1000 - now)
}

export function isAvailable(pod: V1Pod, minReadySeconds: number, now: number): boolean {
  return msUntilAvailable(pod, minReadySeconds, now) === 0
}

/** isHealthy's opposite for the StatefulSet: not running, ready and available, or going away. */
export function isUnavailable(pod: V1Pod, minReadySeconds: number, now: number): boolean {
  return !isAvailable(pod, minReadySeconds, now) || isTerminating(pod)
}

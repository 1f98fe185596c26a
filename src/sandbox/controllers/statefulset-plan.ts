import type {V1OwnerReference, V1PersistentVolumeClaim, V1Pod, V1StatefulSet, V1StatefulSetStatus} from '@kubernetes/client-node'

import {isAvailable, isFinished, isPending, isRunningAndReady, isTerminating, isUnavailable, msUntilAvailable} from './pod-state.js'
import {
  claimIsStale,
  claimName,
  claimOwners,
  desiredReplicas,
  inOrdinalRange,
  newClaims,
  newPod,
  ordinalOf,
  podName,
  type Revision,
  revisionOf,
  startOrdinal,
} from './statefulset-identity.js'

/**
 * One sync of the StatefulSet controller as a pure function, following updateStatefulSet in kubernetes
 * pkg/controller/statefulset/stateful_set_control.go: process the replicas in ordinal order (create missing
 * pods and their claims, replace failed ones), then the condemned pods from the highest ordinal down, then a
 * rolling update from the highest ordinal down. OrderedReady ("monotonic") stops at the first pod that is not
 * Running and Ready; Parallel does everything at once. The actions of one plan are independent of each other.
 * A missing pod is made at the update revision, or at the current one below a RollingUpdate partition
 * (newVersionedStatefulSetPod); under OnDelete nothing is replaced, a deleted pod comes back at the update revision.
 */
export type StatefulSetAction =
  | {kind: 'createPod'; pod: V1Pod; claims: V1PersistentVolumeClaim[]}
  | {kind: 'createClaims'; pod: V1Pod; claims: V1PersistentVolumeClaim[]}
  | {kind: 'deletePod'; pod: V1Pod; reason: 'failed' | 'scale-down' | 'update'}
  | {kind: 'setClaimOwners'; claim: V1PersistentVolumeClaim; ownerReferences: V1OwnerReference[]}

export interface StatefulSetPlanInput {
  set: V1StatefulSet
  /** The pods the set controls (controller ownerReference), in any order. */
  pods: readonly V1Pod[]
  /** Claims in the set's namespace, by name. */
  claims: ReadonlyMap<string, V1PersistentVolumeClaim>
  /** status.currentRevision's revision (the update revision when the set has none yet). */
  current: Revision
  /** The revision of the set's template. */
  update: Revision
  /** The collision count the update revision was named with. */
  collisionCount: number
  now: number
}

export interface StatefulSetPlan {
  actions: StatefulSetAction[]
  status: V1StatefulSetStatus
  /** Look again after this many ms (a pod becomes available after minReadySeconds). */
  requeueAfterMs?: number
}

export function planStatefulSet({set, pods, claims, current, update, collisionCount, now}: StatefulSetPlanInput): StatefulSetPlan {
  const name = set.metadata?.name
  const minReadySeconds = set.spec?.minReadySeconds ?? 0
  const start = startOrdinal(set)
  const count = desiredReplicas(set)
  const monotonic = set.spec?.podManagementPolicy !== 'Parallel'

  const members = pods.filter((pod) => ordinalOf(pod.metadata?.name, name) >= 0)
  const replicas: (V1Pod | undefined)[] = Array.from({length: count}, () => undefined)
  const condemned: V1Pod[] = []
  for (const pod of members) {
    const ordinal = ordinalOf(pod.metadata?.name, name)
    if (inOrdinalRange(set, ordinal)) replicas[ordinal - start] = pod
    else condemned.push(pod)
  }
  condemned.sort((a, b) => ordinalOf(b.metadata?.name, name) - ordinalOf(a.metadata?.name, name))

  const status = computeStatus(set, members, current.name, update.name, collisionCount, now)
  const actions: StatefulSetAction[] = []
  const requeueAfterMs = nextAvailability(members, minReadySeconds, now)
  const done = (): StatefulSetPlan => ({actions, status, ...(requeueAfterMs === undefined ? {} : {requeueAfterMs})})

  if (set.metadata?.deletionTimestamp) return done()

  const firstUnavailable =
    replicas.find((pod) => !pod || isUnavailable(pod, minReadySeconds, now)) ??
    [...condemned].reverse().find((pod) => isUnavailable(pod, minReadySeconds, now))

  for (let index = 0; index < count; index++) {
    const blocked = processReplica(index)
    if (blocked && monotonic) return done()
  }

  for (const pod of condemned) {
    const owners = ownersFor(pod, false)
    actions.push(...owners)
  }

  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return done()
      continue
    }
    if (monotonic && !isAvailable(pod, minReadySeconds, now) && pod !== firstUnavailable) return done()
    actions.push({kind: 'deletePod', pod, reason: 'scale-down'})
    if (monotonic) return done()
  }

  if (set.spec?.updateStrategy?.type === 'OnDelete') return done()

  const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0
  for (let index = count - 1; index >= partition; index--) {
    const pod = replicas[index]
    if (!pod) return done()
    if (revisionOf(pod) !== update.name && !isTerminating(pod)) {
      actions.push({kind: 'deletePod', pod, reason: 'update'})
      status.currentReplicas = (status.currentReplicas ?? 0) - 1
      return done()
    }
    if (isUnavailable(pod, minReadySeconds, now)) return done()
  }
  return done()

  /** processReplica: true when the sync cannot go past this ordinal in OrderedReady mode. */
  function processReplica(index: number): boolean {
    const ordinal = start + index
    const pod = replicas[index]
    if (pod && isFinished(pod)) {
      if (!isTerminating(pod)) actions.push({kind: 'deletePod', pod, reason: 'failed'})
      return true
    }
    if (!pod) {
      const wanted = newClaims(set, ordinal)
      if (wanted.some((claim) => claims.has(claim.metadata!.name!) && claimIsStale(set, claims.get(claim.metadata!.name!)!, podName(set, ordinal)))) {
        return true
      }
      const missing = wanted.filter((claim) => !claims.has(claim.metadata!.name!))
      actions.push({kind: 'createPod', pod: newPod(set, ordinal, revisionFor(ordinal)), claims: missing})
      return true
    }
    if (isPending(pod)) {
      const missing = newClaims(set, ordinal).filter((claim) => !claims.has(claim.metadata!.name!))
      if (missing.length > 0) actions.push({kind: 'createClaims', pod, claims: missing})
    }
    if (isTerminating(pod) || !isRunningAndReady(pod) || !isAvailable(pod, minReadySeconds, now)) return true
    actions.push(...ownersFor(pod, true))
    return false
  }

  function revisionFor(ordinal: number): Revision {
    const strategy = set.spec?.updateStrategy
    // The Go condition reads `A && B || C`: a partition keeps ordinals below it current whatever the type says.
    const belowCurrent = strategy?.rollingUpdate
      ? ordinal < start + (strategy.rollingUpdate.partition ?? 0)
      : strategy?.type === 'RollingUpdate' && ordinal < start + (set.status?.currentReplicas ?? 0)
    return belowCurrent ? current : update
  }

  function ownersFor(pod: V1Pod, podInRange: boolean): StatefulSetAction[] {
    const ordinal = ordinalOf(pod.metadata?.name, name)
    return (set.spec?.volumeClaimTemplates ?? []).flatMap((template): StatefulSetAction[] => {
      const claim = claims.get(claimName(set, template.metadata?.name, ordinal))
      const ownerReferences = claim && claimOwners(claim, set, pod, podInRange)
      return claim && ownerReferences ? [{kind: 'setClaimOwners', claim, ownerReferences}] : []
    })
  }
}

/**
 * computeReplicaStatus + completeRollingUpdate; every pod listed exists, so every pod counts as created. As in
 * Kubernetes up to 1.35 (the sandbox answers as 1.32), only RollingUpdate ever makes the update revision current:
 * under OnDelete status.currentRevision stays where it was (kubernetes#73492, changed in 1.36 by #136833).
 */
function computeStatus(set: V1StatefulSet, pods: V1Pod[], currentRevision: string, updateRevision: string, collisionCount: number, now: number): V1StatefulSetStatus {
  const minReadySeconds = set.spec?.minReadySeconds ?? 0
  const status = {
    observedGeneration: set.metadata?.generation,
    replicas: pods.length,
    readyReplicas: pods.filter(isRunningAndReady).length,
    availableReplicas: pods.filter((pod) => isAvailable(pod, minReadySeconds, now)).length,
    currentReplicas: pods.filter((pod) => !isTerminating(pod) && revisionOf(pod) === currentRevision).length,
    updatedReplicas: pods.filter((pod) => !isTerminating(pod) && revisionOf(pod) === updateRevision).length,
    currentRevision,
    updateRevision,
    collisionCount,
  }
  const replicas = desiredReplicas(set)
  const rollingUpdate = set.spec?.updateStrategy?.type === 'RollingUpdate'
  if (rollingUpdate && status.updatedReplicas === replicas && status.readyReplicas === replicas && status.replicas === replicas) {
    status.currentReplicas = status.updatedReplicas
    status.currentRevision = updateRevision
  }
  return status
}

function nextAvailability(pods: V1Pod[], minReadySeconds: number, now: number): number | undefined {
  const waits = pods.map((pod) => msUntilAvailable(pod, minReadySeconds, now)).filter((ms): ms is number => ms !== undefined && ms > 0)
  return waits.length > 0 ? Math.min(...waits) : undefined
}

const STATUS_FIELDS = [
  'observedGeneration',
  'replicas',
  'readyReplicas',
  'availableReplicas',
  'currentReplicas',
  'updatedReplicas',
  'currentRevision',
  'updateRevision',
  'collisionCount',
] as const

/** True when the stored status already says what the plan computed (zero and absent are the same: omitempty). */
export function statusMatches(stored: V1StatefulSetStatus | undefined, computed: V1StatefulSetStatus): boolean {
  return STATUS_FIELDS.every((field) => (stored?.[field] ?? 0) === (computed[field] ?? 0))
}

import type {V1OwnerReference, V1PersistentVolumeClaim, V1Pod, V1PodTemplateSpec, V1StatefulSet, V1Volume} from '@kubernetes/client-node'

/**
 * The identity a StatefulSet gives its pods and claims, after kubernetes pkg/controller/statefulset
 * (stateful_set_utils.go): names, labels, ownerReferences.
 */

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name'
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index'
export const REVISION_LABEL = 'controller-revision-hash'

const ORDINAL = /^(.*)-([0-9]+)$/

/** The ordinal of a pod named `<set>-<ordinal>`, or -1 when the name does not belong to the set. */
export function ordinalOf(podName: string | undefined, setName: string | undefined): number {
  const match = ORDINAL.exec(podName ?? '')
  if (!match || match[1] !== setName) return -1
  const ordinal = Number(match[2])
  return Number.isSafeInteger(ordinal) && ordinal <= 2 ** 31 - 1 ? ordinal : -1
}

export function podName(set: V1StatefulSet, ordinal: number): string {
  return `${set.metadata?.name}-${ordinal}`
}

export function claimName(set: V1StatefulSet, templateName: string | undefined, ordinal: number): string {
  return `${templateName}-${set.metadata?.name}-${ordinal}`
}

export function startOrdinal(set: V1StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0
}

export function desiredReplicas(set: V1StatefulSet): number {
  return set.spec?.replicas ?? 1
}

export function inOrdinalRange(set: V1StatefulSet, ordinal: number): boolean {
  const start = startOrdinal(set)
  return ordinal >= start && ordinal < start + desiredReplicas(set)
}

export function revisionOf(pod: V1Pod): string | undefined {
  return pod.metadata?.labels?.[REVISION_LABEL]
}

/** A revision as pods are made from it: the name they are labelled with, and its pod template. */
export interface Revision {
  name: string
  template: V1PodTemplateSpec
}

export function setOwnerReference(set: V1StatefulSet, controller: boolean): V1OwnerReference {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    name: set.metadata?.name ?? '',
    uid: set.metadata?.uid ?? '',
    ...(controller ? {controller: true, blockOwnerDeletion: true} : {}),
  }
}

/** The pod for one ordinal, as newStatefulSetPod builds it from a revision's template: identity, storage, revision label. */
export function newPod(set: V1StatefulSet, ordinal: number, revision: Revision): V1Pod {
  const template = structuredClone(revision.template)
  const name = podName(set, ordinal)
  const templates = set.spec?.volumeClaimTemplates ?? []
  const claimVolumes: V1Volume[] = templates.map((claim) => ({
    name: claim.metadata?.name ?? '',
    persistentVolumeClaim: {claimName: claimName(set, claim.metadata?.name, ordinal), readOnly: false},
  }))
  const otherVolumes = (template.spec?.volumes ?? []).filter((volume) => !templates.some((claim) => claim.metadata?.name === volume.name))
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata?.namespace,
      labels: {...template.metadata?.labels, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision.name},
      ...(template.metadata?.annotations ? {annotations: template.metadata.annotations} : {}),
      ...(template.metadata?.finalizers ? {finalizers: template.metadata.finalizers} : {}),
      ownerReferences: [setOwnerReference(set, true)],
    },
    spec: {
      containers: [],
      ...template.spec,
      hostname: name,
      subdomain: set.spec?.serviceName,
      volumes: [...claimVolumes, ...otherVolumes],
    },
  }
}

/**
 * The claims for one ordinal from volumeClaimTemplates, labelled with the template's labels and the
 * selector's matchLabels, owned as the retention policy says for a pod that is in range.
 */
export function newClaims(set: V1StatefulSet, ordinal: number): V1PersistentVolumeClaim[] {
  return (set.spec?.volumeClaimTemplates ?? []).map((template) => {
    const claim: V1PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(set, template.metadata?.name, ordinal),
        namespace: set.metadata?.namespace,
        labels: {...template.metadata?.labels, ...set.spec?.selector?.matchLabels},
        ...(template.metadata?.annotations ? {annotations: template.metadata.annotations} : {}),
      },
      spec: structuredClone(template.spec ?? {}),
    }
    const owners = claimOwners(claim, set, undefined, true)
    if (owners) claim.metadata!.ownerReferences = owners
    return claim
  })
}

type RetentionChoice = 'Retain' | 'Delete'

function retentionPolicy(set: V1StatefulSet): {whenDeleted: RetentionChoice; whenScaled: RetentionChoice} {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy
  return {
    whenDeleted: policy?.whenDeleted === 'Delete' ? 'Delete' : 'Retain',
    whenScaled: policy?.whenScaled === 'Delete' ? 'Delete' : 'Retain',
  }
}

/**
 * updateClaimOwnerRefForSetAndPod: the ownerReferences a claim must carry so that the garbage collector
 * applies spec.persistentVolumeClaimRetentionPolicy: a reference to the StatefulSet for whenDeleted=Delete
 * (while the pod is in range), to the pod for whenScaled=Delete once the pod is scaled away. Returns the new
 * list, or undefined when the claim already matches.
 */
export function claimOwners(
  claim: V1PersistentVolumeClaim,
  set: V1StatefulSet,
  pod: V1Pod | undefined,
  podInRange: boolean,
): V1OwnerReference[] | undefined {
  const policy = retentionPolicy(set)
  let refs = [...(claim.metadata?.ownerReferences ?? [])]
  const setUid = set.metadata?.uid
  const podUid = pod?.metadata?.uid
  const hasRef = (uid: string | undefined) => uid !== undefined && refs.some((ref) => ref.uid === uid)
  let changed = false
  const add = (ref: V1OwnerReference) => {
    if (hasRef(ref.uid)) return
    refs = [...refs, ref]
    changed = true
  }
  const remove = (uid: string | undefined) => {
    if (!hasRef(uid)) return
    refs = refs.filter((ref) => ref.uid !== uid)
    changed = true
  }
  const setRef = setOwnerReference(set, false)
  const podRef = (): V1OwnerReference => ({apiVersion: 'v1', kind: 'Pod', name: pod?.metadata?.name ?? '', uid: podUid ?? ''})

  const wantSetRef = policy.whenDeleted === 'Delete' && (podInRange || policy.whenScaled === 'Retain')
  const wantPodRef = policy.whenScaled === 'Delete' && !podInRange
  if (wantSetRef) add(setRef)
  else remove(setUid)
  if (wantPodRef && podUid) add(podRef())
  else if (!wantPodRef) remove(podUid)
  return changed ? refs : undefined
}

/**
 * PodClaimIsStale: with whenScaled=Delete, a claim still owned by an earlier pod of the same name is about to
 * be garbage collected; the pod must not be recreated onto it.
 */
export function claimIsStale(set: V1StatefulSet, claim: V1PersistentVolumeClaim, podName: string): boolean {
  if (claim.metadata?.deletionTimestamp) return true
  if (retentionPolicy(set).whenScaled === 'Retain') return false
  return (claim.metadata?.ownerReferences ?? []).some((ref) => ref.kind === 'Pod' && ref.name === podName)
}

import type {V1PersistentVolumeClaim, V1Pod, V1PodSpec, V1StatefulSet} from '@kubernetes/client-node'

import {clone, deepEqual, type KObject} from './object.js'
import type {ResourceType} from './resources.js'
import {structuredSelectorMatches} from './selectors.js'
import type {Binding, PolicyRule} from './rbac.js'
import {forbidden, invalidValue, required, unsupportedValue, type StatusCause} from './status.js'

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** Kinds whose names must be DNS labels rather than subdomains. */
const LABEL_NAMED = new Set(['Namespace', 'Service'])
/** RBAC names need only be path segments, so that `system:discovery` is one. */
const PATH_SEGMENT_NAMED = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'])

function validateName(r: ResourceType, name: string): StatusCause[] {
  if (PATH_SEGMENT_NAMED.has(r.kind)) {
    if (name === '.' || name === '..') return [invalidValue('metadata.name', name, `may not be '${name}'`)]
    const bad = ['/', '%'].find((c) => name.includes(c))
    return bad ? [invalidValue('metadata.name', name, `may not contain '${bad}'`)] : []
  }
  if (LABEL_NAMED.has(r.kind)) {
    return DNS_LABEL.test(name) && name.length <= 63 ? [] : [invalidValue('metadata.name', name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")]
  }
  return DNS_SUBDOMAIN.test(name) && name.length <= 253 ? [] : [invalidValue('metadata.name', name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
}

function validatePodSpec(spec: V1PodSpec | undefined, field: string): StatusCause[] {
  if (!spec?.containers?.length) return [required(`${field}.containers`, '')]
  return spec.containers.flatMap((c, i) => [
    ...(c.name ? [] : [required(`${field}.containers[${i}].name`, '')]),
    ...(c.image ? [] : [required(`${field}.containers[${i}].image`, '')]),
  ])
}

function validateStatefulSet(sts: V1StatefulSet): StatusCause[] {
  const spec = sts.spec
  if (!spec?.selector) return [required('spec.selector', '')]
  const labels = spec.template?.metadata?.labels ?? {}
  const causes = validatePodSpec(spec.template?.spec, 'spec.template.spec')
  if (!structuredSelectorMatches(spec.selector, labels)) {
    causes.push(invalidValue('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'))
  }
  if ((spec.replicas ?? 0) < 0) causes.push(invalidValue('spec.replicas', spec.replicas, 'must be greater than or equal to 0'))
  causes.push(...validateUpdateStrategy(spec.updateStrategy))
  return causes
}

/** ValidateStatefulSetSpec's updateStrategy rules (an absent type is defaulted later): switching to OnDelete must also clear rollingUpdate. */
function validateUpdateStrategy(strategy: NonNullable<V1StatefulSet['spec']>['updateStrategy']): StatusCause[] {
  switch (strategy?.type) {
    case 'OnDelete':
      return strategy.rollingUpdate ? [invalidValue('spec.updateStrategy.rollingUpdate', strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")] : []
    case 'RollingUpdate': {
      const partition = strategy.rollingUpdate?.partition ?? 0
      return partition < 0 ? [invalidValue('spec.updateStrategy.rollingUpdate.partition', partition, 'must be greater than or equal to 0')] : []
    }
    case undefined:
      return []
    default:
      return [invalidValue('spec.updateStrategy', strategy, "must be 'RollingUpdate' or 'OnDelete'")]
  }
}

const RBAC_GROUP = 'rbac.authorization.k8s.io'

/** pkg/apis/rbac/validation: every rule has verbs, and is either about resources or about non-resource URLs. */
function validateRules(rules: PolicyRule[] | undefined, namespaced: boolean): StatusCause[] {
  return (rules ?? []).flatMap((rule, i) => {
    const field = `rules[${i}]`
    const causes: StatusCause[] = []
    if (!rule.verbs?.length) causes.push(required(`${field}.verbs`, 'verbs must contain at least one value'))
    if (rule.nonResourceURLs?.length) {
      if (namespaced) causes.push(invalidValue(`${field}.nonResourceURLs`, rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'))
      if (rule.apiGroups?.length || rule.resources?.length) causes.push(invalidValue(`${field}.nonResourceURLs`, rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'))
      return causes
    }
    if (!rule.apiGroups?.length) causes.push(required(`${field}.apiGroups`, 'resource rules must supply at least one api group'))
    if (!rule.resources?.length) causes.push(required(`${field}.resources`, 'resource rules must supply at least one resource'))
    return causes
  })
}

function validateBinding(b: Binding, namespaced: boolean): StatusCause[] {
  const causes: StatusCause[] = []
  const ref = b.roleRef ?? {}
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole']
  if (ref.apiGroup !== RBAC_GROUP) causes.push(unsupportedValue('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]))
  if (!kinds.includes(ref.kind)) causes.push(unsupportedValue('roleRef.kind', ref.kind ?? '', kinds))
  if (!ref.name) causes.push(required('roleRef.name', ''))
  for (const [i, s] of (b.subjects ?? []).entries()) {
    if (!s.name) causes.push(required(`subjects[${i}].name`, ''))
    if (!['ServiceAccount', 'User', 'Group'].includes(s.kind)) causes.push(unsupportedValue(`subjects[${i}].kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']))
    if (s.kind === 'ServiceAccount' && !namespaced && !s.namespace) causes.push(required(`subjects[${i}].namespace`, ''))
  }
  return causes
}

/** Field errors for a new object (the subset of the real validation that clients here can trip). */
export function validateCreate(r: ResourceType, o: KObject): StatusCause[] {
  const name = o.metadata.name ?? ''
  const causes = name ? validateName(r, name) : [required('metadata.name', 'name or generateName is required')]
  switch (r.kind) {
    case 'Pod': return [...causes, ...validatePodSpec((o as V1Pod).spec, 'spec')]
    case 'StatefulSet': return [...causes, ...validateStatefulSet(o as V1StatefulSet)]
    case 'Role': case 'ClusterRole': return [...causes, ...validateRules(o.rules as PolicyRule[] | undefined, r.namespaced)]
    case 'RoleBinding': case 'ClusterRoleBinding': return [...causes, ...validateBinding(o as unknown as Binding, r.namespaced)]
    default: return causes
  }
}

const POD_UPDATE_RULE = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'

/** A pod's spec is immutable except images, activeDeadlineSeconds and added tolerations (ValidatePodUpdate). */
function podSpecChangeIsAllowed(oldSpec: V1PodSpec, newSpec: V1PodSpec): boolean {
  const comparable = (spec: V1PodSpec, images: V1PodSpec): V1PodSpec => {
    const s = clone(spec)
    s.containers = s.containers.map((c, i) => ({...c, image: images.containers[i]?.image ?? c.image}))
    s.initContainers = s.initContainers?.map((c, i) => ({...c, image: images.initContainers?.[i]?.image ?? c.image}))
    s.activeDeadlineSeconds = images.activeDeadlineSeconds
    s.tolerations = images.tolerations
    return s
  }
  const tolerationsKept = (oldSpec.tolerations ?? []).every((t) => (newSpec.tolerations ?? []).some((n) => deepEqual(n, t)))
  return tolerationsKept && deepEqual(comparable(newSpec, oldSpec), oldSpec)
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'revisionHistoryLimit'] as const

/** Field errors for a change to an existing object's spec (immutability rules). */
export function validateUpdate(r: ResourceType, old: KObject, next: KObject): StatusCause[] {
  const causes = ['Pod', 'StatefulSet', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(r.kind) ? validateCreate(r, next) : []
  switch (r.kind) {
    case 'Pod': {
      const o = (old as V1Pod).spec!
      const n = (next as V1Pod).spec!
      if (!podSpecChangeIsAllowed(o, n)) causes.push(forbidden('spec', POD_UPDATE_RULE))
      break
    }
    case 'StatefulSet': {
      const strip = (sts: KObject): Record<string, unknown> => {
        const spec = {...(sts.spec as Record<string, unknown>)}
        for (const k of STS_MUTABLE) delete spec[k]
        return spec
      }
      if (!deepEqual(strip(old), strip(next))) {
        causes.push(forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
      }
      break
    }
    case 'RoleBinding': case 'ClusterRoleBinding':
      // A binding is re-pointed by deleting and re-creating it, so that nobody gains a role by editing one.
      if (!deepEqual(old.roleRef, next.roleRef)) causes.push(invalidValue('roleRef', next.roleRef, 'cannot change roleRef'))
      break
    case 'PersistentVolumeClaim': {
      // The PV controller binds a claim by setting volumeName once; storage requests may grow; the rest is fixed.
      const o = clone((old as V1PersistentVolumeClaim).spec ?? {})
      const n = clone((next as V1PersistentVolumeClaim).spec ?? {})
      if (!o.volumeName) o.volumeName = n.volumeName
      // RetroactiveDefaultStorageClass: a claim created without a class may be given one later, once.
      if (o.storageClassName === undefined) o.storageClassName = n.storageClassName
      o.resources = n.resources
      if (!deepEqual(o, n)) causes.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'))
      break
    }
    case 'ControllerRevision':
      if (!deepEqual(old.data, next.data)) causes.push(invalidValue('data', next.data, 'field is immutable'))
      break
  }
  return causes
}

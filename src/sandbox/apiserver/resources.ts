/** The resource types this API server serves, with what discovery, routing and storage need to know about each. */
export interface ResourceType {
  group: string
  version: string
  plural: string
  singular: string
  kind: string
  namespaced: boolean
  shortNames: string[]
  /** Subresources beyond the resource itself, as discovery names them (`status`, `scale`, `binding`, `portforward`). */
  subresources: string[]
  /** The registry's strategy bumps metadata.generation on spec changes (workload and policy kinds do; pods do not in 1.32). */
  tracksGeneration: boolean
  categories?: string[]
  /** Verbs discovery lists, when not every verb: the review kinds are create-only and never stored. */
  verbs?: string[]
}

const core = (plural: string, kind: string, namespaced: boolean, shortNames: string[], subresources: string[] = [], categories?: string[]): ResourceType =>
  ({group: '', version: 'v1', plural, singular: kind.toLowerCase(), kind, namespaced, shortNames, subresources, tracksGeneration: false, categories})

function rbac(plural: string, kind: string, namespaced: boolean): ResourceType {
  return {group: 'rbac.authorization.k8s.io', version: 'v1', plural, singular: kind.toLowerCase(), kind, namespaced, shortNames: [], subresources: [], tracksGeneration: false}
}

/** A create-only kind whose answer is computed from the request (access reviews, token reviews), never stored. */
function review(group: string, plural: string, kind: string): ResourceType {
  return {group, version: 'v1', plural, singular: kind.toLowerCase(), kind, namespaced: false, shortNames: [], subresources: [], tracksGeneration: false, verbs: ['create']}
}

export const RESOURCES: ResourceType[] = [
  core('namespaces', 'Namespace', false, ['ns'], ['status']),
  core('nodes', 'Node', false, ['no'], ['status']),
  core('pods', 'Pod', true, ['po'], ['status', 'binding', 'portforward'], ['all']),
  core('services', 'Service', true, ['svc'], ['status'], ['all']),
  core('endpoints', 'Endpoints', true, ['ep']),
  core('configmaps', 'ConfigMap', true, ['cm']),
  core('secrets', 'Secret', true, []),
  core('persistentvolumeclaims', 'PersistentVolumeClaim', true, ['pvc'], ['status']),
  core('persistentvolumes', 'PersistentVolume', false, ['pv'], ['status']),
  core('events', 'Event', true, ['ev']),
  core('serviceaccounts', 'ServiceAccount', true, ['sa'], ['token']),
  {group: 'apps', version: 'v1', plural: 'statefulsets', singular: 'statefulset', kind: 'StatefulSet', namespaced: true,
    shortNames: ['sts'], subresources: ['status', 'scale'], tracksGeneration: true, categories: ['all']},
  {group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', singular: 'poddisruptionbudget', kind: 'PodDisruptionBudget',
    namespaced: true, shortNames: ['pdb'], subresources: ['status'], tracksGeneration: true},
  {group: 'apps', version: 'v1', plural: 'controllerrevisions', singular: 'controllerrevision', kind: 'ControllerRevision', namespaced: true,
    shortNames: [], subresources: [], tracksGeneration: false},
  {group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses', singular: 'storageclass', kind: 'StorageClass', namespaced: false,
    shortNames: ['sc'], subresources: [], tracksGeneration: false},
  rbac('roles', 'Role', true),
  rbac('rolebindings', 'RoleBinding', true),
  rbac('clusterroles', 'ClusterRole', false),
  rbac('clusterrolebindings', 'ClusterRoleBinding', false),
  review('authorization.k8s.io', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview'),
  review('authorization.k8s.io', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview'),
  review('authorization.k8s.io', 'subjectaccessreviews', 'SubjectAccessReview'),
  review('authentication.k8s.io', 'selfsubjectreviews', 'SelfSubjectReview'),
  review('authentication.k8s.io', 'tokenreviews', 'TokenReview'),
]

export const GROUP_VERSIONS: Array<{group: string; version: string}> = [
  {group: '', version: 'v1'},
  {group: 'apps', version: 'v1'},
  {group: 'policy', version: 'v1'},
  {group: 'storage.k8s.io', version: 'v1'},
  {group: 'rbac.authorization.k8s.io', version: 'v1'},
  {group: 'authorization.k8s.io', version: 'v1'},
  {group: 'authentication.k8s.io', version: 'v1'},
]

export const apiVersionOf = (r: ResourceType): string => (r.group ? `${r.group}/${r.version}` : r.version)

/** `pods`, `statefulsets.apps`: how the real API names a resource in error messages. */
export const qualifiedName = (r: ResourceType): string => (r.group ? `${r.plural}.${r.group}` : r.plural)

/** `Pod`, `StatefulSet.apps`: how the real API names a kind in validation messages. */
export const qualifiedKind = (r: ResourceType): string => (r.group ? `${r.kind}.${r.group}` : r.kind)

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural)
}

export const NAMESPACES = RESOURCES.find((r) => r.plural === 'namespaces')!
export const NODES = RESOURCES.find((r) => r.plural === 'nodes')!
export const PODS = RESOURCES.find((r) => r.plural === 'pods')!
export const STATEFULSETS = RESOURCES.find((r) => r.plural === 'statefulsets')!
export const STORAGECLASSES = RESOURCES.find((r) => r.plural === 'storageclasses')!
export const SERVICEACCOUNTS = RESOURCES.find((r) => r.plural === 'serviceaccounts')!
export const ROLES = RESOURCES.find((r) => r.plural === 'roles')!
export const ROLEBINDINGS = RESOURCES.find((r) => r.plural === 'rolebindings')!
export const CLUSTERROLES = RESOURCES.find((r) => r.plural === 'clusterroles')!
export const CLUSTERROLEBINDINGS = RESOURCES.find((r) => r.plural === 'clusterrolebindings')!

import type {V1PolicyRule} from '@kubernetes/client-node'

/**
 * Every Kubernetes API call redisctl makes, as RBAC names it, and which of them each kind of plan uses. The one
 * source for both `redisctl rbac` (the Role that allows them all) and the permission check before a command changes
 * anything (the ones its plan will use). All are in the cluster's namespace; reading Nodes is the one cluster-scoped
 * call, optional (zones).
 */

export type Verb = 'get' | 'list' | 'create' | 'patch' | 'delete'

export interface Permission {
  verb: Verb
  /** '' for the core group. */
  group: string
  resource: string
  subresource?: string
}

const allow = (verb: Verb, resource: string, group = '', subresource?: string): Permission =>
  ({verb, group, resource, ...(subresource ? {subresource} : {})})

/** `patch statefulsets.apps/scale`: the resource as `kubectl auth can-i` takes it, the subresource after a slash. */
export const describePermission = (p: Permission): string =>
  `${p.verb} ${p.resource}${p.group ? `.${p.group}` : ''}${p.subresource ? `/${p.subresource}` : ''}`

/** The kinds redisctl writes for a cluster, as [resource, group]; the Secret only when there is a password. */
const MANIFESTS: Array<[string, string]> = [['configmaps', ''], ['services', ''], ['poddisruptionbudgets', 'policy'], ['statefulsets', 'apps']]
const SECRETS: [string, string] = ['secrets', '']

const LIST_PODS = [allow('list', 'pods')]
const READ_STATEFULSET = allow('get', 'statefulsets', 'apps')
const SCALE_STATEFULSET = allow('patch', 'statefulsets', 'apps', 'scale')
/** Create and adopt read what is there, then create it or merge-patch it (kube/apply.ts). */
const apply = ([resource, group]: [string, string]): Permission[] => (['get', 'create', 'patch'] as const).map((verb) => allow(verb, resource, group))

/**
 * Port-forwards are WebSocket upgrades, which kube-apiserver up to 1.34 authorizes as `get` on pods/portforward;
 * from 1.35 (and for SPDY, kubectl's fallback) it also wants `create`.
 */
export const PORT_FORWARD: Permission[] = [allow('get', 'pods', '', 'portforward'), allow('create', 'pods', '', 'portforward')]

/** Optional, cluster-scoped: which zone each Kubernetes node is in, for spreading replicas over zones. */
export const NODE_ZONES = allow('list', 'nodes')

export type Operation = 'create' | 'adopt' | 'inspect' | 'scale-out' | 'scale-in' | 'node-add' | 'node-remove' | 'move-slots' | 'repair' | 'rollout' | 'teardown' | 'tls-rotate'
  | 'failover' | 'config' | 'drill' | 'auth-rotate'

export const OPERATIONS: Operation[] = ['create', 'adopt', 'inspect', 'scale-out', 'scale-in', 'node-add', 'node-remove', 'move-slots', 'repair', 'rollout', 'teardown', 'tls-rotate',
  'failover', 'config', 'drill', 'auth-rotate']

export interface PlanOptions {
  /** Redis is reached through port-forwards (--connect port-forward). */
  portForward: boolean
  /** The pods get a password (--password-secret or REDISCTL_PASSWORD): create writes it into a Secret. */
  password: boolean
  /** --password-secret: the password is read from a Secret. */
  passwordSecret: boolean
  /** scale in --delete-pvcs, teardown --with-pvcs. */
  deletePvcs: boolean
  /** TLS: its Secret is read (--tls-ca-secret, a cluster made with --tls), and for create --tls written. */
  tls?: boolean
}

function callsOf(op: Operation, o: PlanOptions): Permission[] {
  switch (op) {
    case 'create': return [...LIST_PODS, ...[...MANIFESTS, ...(o.password || o.tls ? [SECRETS] : [])].flatMap(apply)]
    case 'adopt': case 'inspect': case 'move-slots': case 'repair': case 'failover': return LIST_PODS
    // config set writes the setting into the cluster's ConfigMap, so that a restarted pod keeps it.
    case 'config': return [...LIST_PODS, allow('get', 'configmaps'), allow('patch', 'configmaps')]
    // drill failover deletes a master's pod, as a node failure would.
    case 'drill': return [...LIST_PODS, allow('delete', 'pods')]
    case 'tls-rotate': return [...LIST_PODS, ...apply(SECRETS)]
    case 'scale-out': case 'node-remove': return [READ_STATEFULSET, SCALE_STATEFULSET, ...LIST_PODS]
    case 'node-add': return [READ_STATEFULSET, allow('patch', 'statefulsets', 'apps'), SCALE_STATEFULSET, ...LIST_PODS]
    case 'scale-in': return [READ_STATEFULSET, SCALE_STATEFULSET, ...LIST_PODS, allow('list', 'persistentvolumeclaims'), ...(o.deletePvcs ? [allow('delete', 'persistentvolumeclaims')] : [])]
    case 'rollout': return [READ_STATEFULSET, allow('patch', 'statefulsets', 'apps'), allow('list', 'controllerrevisions', 'apps'), ...LIST_PODS, allow('delete', 'pods'),
      allow('get', 'configmaps'), allow('patch', 'configmaps')]
    // The user's Secret and the pods' auth include are read and patched.
    case 'auth-rotate': return [...LIST_PODS, allow('get', 'secrets'), allow('patch', 'secrets')]
    case 'teardown': return [
      ...[...MANIFESTS, SECRETS, ['persistentvolumeclaims', ''] as [string, string], ['pods', ''] as [string, string]].map(([r, g]) => allow('list', r, g)),
      ...[...MANIFESTS, SECRETS].map(([r, g]) => allow('delete', r, g)),
      ...(o.deletePvcs ? [allow('delete', 'persistentvolumeclaims')] : []),
    ]
  }
}

/** What a plan of this kind will ask of the Kubernetes API, with these options; each permission once. */
export function permissionsFor(op: Operation, o: PlanOptions): Permission[] {
  const all = [
    ...callsOf(op, o),
    ...((o.passwordSecret || o.tls) && op !== 'teardown' ? [allow('get', 'secrets')] : []),
    ...(o.portForward && op !== 'teardown' ? PORT_FORWARD : []),
  ]
  return all.filter((p, i) => all.findIndex((q) => describePermission(q) === describePermission(p)) === i)
}

const EVERYTHING: PlanOptions = {portForward: true, password: true, passwordSecret: true, deletePvcs: true}

/**
 * The rules of a Role that allows every command with every option: one rule per API group and set of verbs, in
 * the order the calls were listed.
 */
export function namespaceRules(): V1PolicyRule[] {
  const verbs = new Map<string, {group: string; resource: string; verbs: Set<Verb>}>()
  for (const p of OPERATIONS.flatMap((op) => permissionsFor(op, EVERYTHING))) {
    const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource
    const key = `${p.group} ${resource}`
    if (!verbs.has(key)) verbs.set(key, {group: p.group, resource, verbs: new Set()})
    verbs.get(key)!.verbs.add(p.verb)
  }
  const ORDER: Verb[] = ['get', 'list', 'create', 'patch', 'delete']
  const rules = new Map<string, V1PolicyRule>()
  for (const {group, resource, verbs: set} of verbs.values()) {
    const sorted = ORDER.filter((v) => set.has(v))
    const key = `${group} ${sorted.join(',')}`
    if (!rules.has(key)) rules.set(key, {apiGroups: [group], resources: [], verbs: sorted})
    rules.get(key)!.resources!.push(resource)
  }
  return [...rules.values()]
}

export const nodeZonesRule = (): V1PolicyRule => ({apiGroups: [NODE_ZONES.group], resources: [NODE_ZONES.resource], verbs: [NODE_ZONES.verb]})

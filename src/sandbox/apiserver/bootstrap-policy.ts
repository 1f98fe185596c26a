import type {KObject} from './object.js'
import type {PolicyRule, Subject} from './rbac.js'

/**
 * The ClusterRoles and ClusterRoleBindings kube-apiserver creates at start (plugin/pkg/auth/authorizer/rbac/
 * bootstrappolicy), limited to the resources this server serves; plus the identities of the sandbox's own
 * controllers and kubelet, which a real cluster authorizes through per-controller ServiceAccounts and the Node
 * authorizer instead.
 */

const READ = ['get', 'list', 'watch']
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update']
const CORE = ''
const RBAC = 'rbac.authorization.k8s.io'

const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({verbs, apiGroups, resources})
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({verbs, nonResourceURLs})

/** What `view` may read in a namespace: everything but Secrets and RBAC. */
const VIEW: PolicyRule[] = [
  rule(READ, [CORE], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'services', 'services/status', 'serviceaccounts']),
  rule(READ, [CORE], ['events', 'pods/log', 'pods/status', 'namespaces/status']),
  rule(READ, [CORE], ['namespaces']),
  rule(READ, ['apps'], ['statefulsets', 'statefulsets/scale', 'statefulsets/status']),
  rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
]

/** `edit` adds writes to what users deploy, Secrets and the streaming subresources. */
const EDIT: PolicyRule[] = [
  rule(READ, [CORE], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
  rule(['impersonate'], [CORE], ['serviceaccounts']),
  rule(WRITE, [CORE], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
  rule(['create'], [CORE], ['pods/eviction']),
  rule(WRITE, [CORE], ['configmaps', 'events', 'persistentvolumeclaims', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
  rule(['create'], [CORE], ['serviceaccounts/token']),
  rule(WRITE, ['apps'], ['statefulsets', 'statefulsets/scale']),
  rule(WRITE, ['policy'], ['poddisruptionbudgets']),
  ...VIEW,
]

/** `admin` adds the namespace's own RBAC. */
const ADMIN: PolicyRule[] = [
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  rule([...READ, ...WRITE], [RBAC], ['rolebindings', 'roles']),
  ...EDIT,
]

const CLUSTER_ROLES: Record<string, PolicyRule[]> = {
  'cluster-admin': [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])],
  'admin': ADMIN,
  'edit': EDIT,
  'view': VIEW,
  'system:discovery': [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])],
  'system:basic-user': [
    rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
    rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
  ],
  'system:public-info-viewer': [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])],
  'system:auth-delegator': [
    rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
  ],
  // The loopback kubelet: its nodes, the pods bound to them, and what their volumes read.
  'system:node': [
    rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    rule(['create', 'get', 'list', 'watch', 'patch', 'update'], [CORE], ['nodes']),
    rule(['patch', 'update'], [CORE], ['nodes/status', 'pods/status']),
    rule(['get', 'list', 'watch', 'delete'], [CORE], ['pods']),
    rule(['create', 'patch', 'update'], [CORE], ['events']),
    rule(['get'], [CORE], ['configmaps', 'secrets', 'persistentvolumeclaims', 'persistentvolumes']),
  ],
  // The sandbox's StatefulSet controller (with its revisions), scheduler and volume provisioner (which installs the
  // default StorageClass), sharing one identity.
  'system:kube-controller-manager': [
    rule([...READ, 'create', 'delete', 'patch', 'update'], [CORE], ['pods', 'persistentvolumeclaims', 'persistentvolumes']),
    rule(['patch', 'update'], [CORE], ['pods/status', 'persistentvolumeclaims/status', 'persistentvolumes/status']),
    rule(['create'], [CORE], ['pods/binding']),
    rule(READ, [CORE], ['nodes']),
    rule(['create', 'patch', 'update'], [CORE], ['events']),
    rule([...READ, 'patch', 'update'], ['apps'], ['statefulsets', 'statefulsets/status']),
    rule([...READ, 'create', 'delete', 'patch', 'update'], ['apps'], ['controllerrevisions']),
    rule([...READ, 'create'], ['storage.k8s.io'], ['storageclasses']),
  ],
}

const group = (name: string): Subject => ({kind: 'Group', apiGroup: RBAC, name})
const user = (name: string): Subject => ({kind: 'User', apiGroup: RBAC, name})

export const SYSTEM_NODES = 'system:nodes'
export const CONTROLLER_MANAGER = 'system:kube-controller-manager'

const BINDINGS: Record<string, Subject[]> = {
  'cluster-admin': [group('system:masters')],
  'system:discovery': [group('system:authenticated')],
  'system:basic-user': [group('system:authenticated')],
  'system:public-info-viewer': [group('system:authenticated'), group('system:unauthenticated')],
  'system:node': [group(SYSTEM_NODES)],
  'system:kube-controller-manager': [user(CONTROLLER_MANAGER)],
}

const metadata = (name: string): KObject['metadata'] => ({
  name, labels: {'kubernetes.io/bootstrapping': 'rbac-defaults'}, annotations: {'rbac.authorization.kubernetes.io/autoupdate': 'true'},
})

export const bootstrapClusterRoles = (): KObject[] =>
  Object.entries(CLUSTER_ROLES).map(([name, rules]) => ({metadata: metadata(name), rules}))

export const bootstrapClusterRoleBindings = (): KObject[] =>
  Object.entries(BINDINGS).map(([name, subjects]) => ({metadata: metadata(name), subjects, roleRef: {apiGroup: RBAC, kind: 'ClusterRole', name}}))

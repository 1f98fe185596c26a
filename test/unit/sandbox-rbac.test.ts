import {describe, expect, it} from 'vitest'

import {authorize, ruleAllows, rulesFor, type Binding, type PolicyRule, type PolicySource, type UserInfo} from '../../src/sandbox/apiserver/rbac.js'
import {requestAttributes} from '../../src/sandbox/apiserver/request-info.js'
import {forbiddenRequest} from '../../src/sandbox/apiserver/status.js'

/** The attributes of `METHOD path?query`, as the API server derives them. */
const request = (method: string, path: string) => requestAttributes(method, new URL(path, 'https://sandbox'))
const allows = (rule: PolicyRule, method: string, path: string): boolean => ruleAllows(request(method, path), rule)
/** Whether the rule allows each `METHOD path`, in order. */
const decisions = (rule: PolicyRule, requests: string[]): boolean[] => requests.map((r) => allows(rule, r.split(' ')[0], r.split(' ')[1]))

const ci: UserInfo = {name: 'system:serviceaccount:ci:runner', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated']}

/** A policy from plain objects: roles by "namespace/name" (cluster roles without a namespace). */
function policy(bindings: Binding[], roles: Record<string, PolicyRule[]>): PolicySource {
  return {
    clusterRoleBindings: () => bindings.filter((b) => !b.metadata.namespace),
    roleBindings: (ns) => bindings.filter((b) => b.metadata.namespace === ns),
    rulesOf: (ref, ns) => roles[ref.kind === 'Role' ? `${ns}/${ref.name}` : ref.name],
  }
}

const roleRef = (kind: string, name: string) => ({apiGroup: 'rbac.authorization.k8s.io', kind, name})

describe('what a request asks, read from its method and path', () => {
  it.each([
    ['GET', '/api/v1/namespaces/ci/pods', 'list', 'pods', 'ci', ''],
    ['GET', '/api/v1/namespaces/ci/pods?watch=true', 'watch', 'pods', 'ci', ''],
    ['GET', '/api/v1/namespaces/ci/pods?watch=1', 'watch', 'pods', 'ci', ''],
    ['GET', '/api/v1/namespaces/ci/pods/redis-0', 'get', 'pods', 'ci', 'redis-0'],
    ['HEAD', '/api/v1/namespaces/ci/pods/redis-0', 'get', 'pods', 'ci', 'redis-0'],
    ['POST', '/api/v1/namespaces/ci/pods', 'create', 'pods', 'ci', ''],
    ['PUT', '/api/v1/namespaces/ci/pods/redis-0', 'update', 'pods', 'ci', 'redis-0'],
    ['PATCH', '/apis/apps/v1/namespaces/ci/statefulsets/redis', 'patch', 'statefulsets', 'ci', 'redis'],
    ['DELETE', '/api/v1/namespaces/ci/persistentvolumeclaims/data-0', 'delete', 'persistentvolumeclaims', 'ci', 'data-0'],
    ['DELETE', '/api/v1/namespaces/ci/persistentvolumeclaims', 'deletecollection', 'persistentvolumeclaims', 'ci', ''],
    ['GET', '/api/v1/nodes', 'list', 'nodes', '', ''],
    ['GET', '/api/v1/namespaces/ci', 'get', 'namespaces', 'ci', 'ci'],
    ['GET', '/api/v1/namespaces/ci/configmaps?fieldSelector=metadata.name%3Dconf', 'list', 'configmaps', 'ci', 'conf'],
  ])('%s %s is %s on %s in namespace "%s", name "%s"', (method, path, verb, resource, namespace, name) => {
    expect(request(method, path)).toMatchObject({isResourceRequest: true, verb, resource, namespace, name})
  })

  it('names the subresource and the API group: a port-forward upgrade (GET) is get, over SPDY (POST) create', () => {
    expect(request('GET', '/api/v1/namespaces/ci/pods/redis-0/portforward?ports=6379')).toMatchObject({verb: 'get', resource: 'pods', subresource: 'portforward', apiGroup: ''})
    expect(request('POST', '/api/v1/namespaces/ci/pods/redis-0/portforward')).toMatchObject({verb: 'create', subresource: 'portforward'})
    expect(request('PATCH', '/apis/apps/v1/namespaces/ci/statefulsets/redis/scale')).toMatchObject({verb: 'patch', apiGroup: 'apps', resource: 'statefulsets', subresource: 'scale'})
  })

  it.each(['/api', '/apis', '/api/v1', '/apis/apps/v1', '/version', '/openapi/v3', '/healthz'])('%s is a non-resource path', (path) => {
    expect(request('GET', path)).toMatchObject({isResourceRequest: false, verb: 'get', path})
  })
})

describe('RBAC rule matching', () => {
  const podsList: PolicyRule = {verbs: ['list'], apiGroups: [''], resources: ['pods']}

  it('allows the verb, group and resource named, and nothing beside them', () => {
    expect(decisions(podsList, ['GET /api/v1/namespaces/ci/pods', 'GET /api/v1/namespaces/ci/pods/redis-0', 'GET /api/v1/namespaces/ci/services']))
      .toEqual([true, false, false])
    expect(allows({...podsList, apiGroups: ['apps']}, 'GET', '/api/v1/namespaces/ci/pods')).toBe(false)
  })

  it('does not give a subresource with its resource, nor the resource with a subresource', () => {
    expect(allows({verbs: ['create', 'get'], apiGroups: [''], resources: ['pods']}, 'GET', '/api/v1/namespaces/ci/pods/p/portforward')).toBe(false)
    expect(allows({verbs: ['get'], apiGroups: [''], resources: ['pods/portforward']}, 'GET', '/api/v1/namespaces/ci/pods/p/portforward')).toBe(true)
    expect(allows({verbs: ['get'], apiGroups: [''], resources: ['pods/portforward']}, 'GET', '/api/v1/namespaces/ci/pods/p')).toBe(false)
  })

  it('reads * as every verb, group or resource, subresources included; */scale as the scale of any resource', () => {
    const all: PolicyRule = {verbs: ['*'], apiGroups: ['*'], resources: ['*']}
    expect(allows(all, 'PATCH', '/apis/apps/v1/namespaces/ci/statefulsets/redis/scale')).toBe(true)
    const anyScale: PolicyRule = {verbs: ['patch'], apiGroups: ['apps'], resources: ['*/scale']}
    expect(allows(anyScale, 'PATCH', '/apis/apps/v1/namespaces/ci/statefulsets/redis/scale')).toBe(true)
    expect(allows(anyScale, 'PATCH', '/apis/apps/v1/namespaces/ci/statefulsets/redis')).toBe(false)
    expect(allows({verbs: ['patch'], apiGroups: ['apps'], resources: ['statefulsets/*']}, 'PATCH', '/apis/apps/v1/namespaces/ci/statefulsets/redis/scale')).toBe(false)
  })

  it('restricts to resourceNames, which a list or create cannot satisfy unless a field selector names the object', () => {
    const one: PolicyRule = {verbs: ['get', 'list', 'create'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['conf']}
    expect(decisions(one, [
      'GET /api/v1/namespaces/ci/configmaps/conf', 'GET /api/v1/namespaces/ci/configmaps/other', 'GET /api/v1/namespaces/ci/configmaps',
      'POST /api/v1/namespaces/ci/configmaps', 'GET /api/v1/namespaces/ci/configmaps?fieldSelector=metadata.name%3Dconf',
    ])).toEqual([true, false, false, false, true])
  })

  it('matches non-resource URLs exactly, or by a prefix that ends in *', () => {
    const discovery: PolicyRule = {verbs: ['get'], nonResourceURLs: ['/api', '/apis/*']}
    expect(decisions(discovery, ['GET /api', 'GET /api/v1', 'GET /apis/apps/v1', 'POST /apis/apps/v1', 'GET /api/v1/namespaces/ci/pods']))
      .toEqual([true, false, true, false, false])
  })
})

describe('RBAC decisions over bindings', () => {
  const role = {'ci/redisctl': [{verbs: ['list'], apiGroups: [''], resources: ['pods']}], 'nodes-reader': [{verbs: ['list'], apiGroups: [''], resources: ['nodes']}]}
  const inCi: Binding = {metadata: {name: 'redisctl', namespace: 'ci'}, roleRef: roleRef('Role', 'redisctl'), subjects: [{kind: 'ServiceAccount', name: 'runner'}]}

  it('allows a ServiceAccount bound by a RoleBinding in its namespace, there only, and says which binding allowed it', () => {
    const rbac = policy([inCi], role)
    expect(authorize(rbac, ci, request('GET', '/api/v1/namespaces/ci/pods'))).toEqual({
      allowed: true, reason: 'RBAC: allowed by RoleBinding "redisctl/ci" of Role "redisctl" to ServiceAccount "runner/ci"',
    })
    expect(authorize(rbac, ci, request('GET', '/api/v1/namespaces/other/pods')).allowed).toBe(false)
    expect(authorize(rbac, ci, request('GET', '/api/v1/pods')).allowed).toBe(false)
  })

  it('applies a ClusterRoleBinding everywhere, and a ClusterRole through a RoleBinding in that namespace only', () => {
    const everywhere: Binding = {metadata: {name: 'nodes'}, roleRef: roleRef('ClusterRole', 'nodes-reader'), subjects: [{kind: 'Group', name: 'system:serviceaccounts:ci'}]}
    expect(authorize(policy([everywhere], role), ci, request('GET', '/api/v1/nodes')).allowed).toBe(true)
    const viaRoleBinding: Binding = {metadata: {name: 'pods', namespace: 'ci'}, roleRef: roleRef('ClusterRole', 'pods'), subjects: [{kind: 'User', name: ci.name}]}
    const rbac = policy([viaRoleBinding], {pods: role['ci/redisctl']})
    expect(authorize(rbac, ci, request('GET', '/api/v1/namespaces/ci/pods')).allowed).toBe(true)
    expect(authorize(rbac, ci, request('GET', '/api/v1/namespaces/default/pods')).allowed).toBe(false)
  })

  it('does not match a ServiceAccount of another namespace, and names a missing role as the reason for a refusal', () => {
    const other: Binding = {...inCi, subjects: [{kind: 'ServiceAccount', name: 'runner', namespace: 'prod'}]}
    expect(authorize(policy([other], role), ci, request('GET', '/api/v1/namespaces/ci/pods')).allowed).toBe(false)
    const dangling: Binding = {...inCi, roleRef: roleRef('Role', 'gone')}
    expect(authorize(policy([dangling], role), ci, request('GET', '/api/v1/namespaces/ci/pods'))).toEqual({
      allowed: false, reason: 'RBAC: role.rbac.authorization.k8s.io "gone" not found',
    })
  })

  it('lets system:masters do anything without asking RBAC', () => {
    expect(authorize(policy([], {}), {name: 'admin', groups: ['system:masters']}, request('DELETE', '/api/v1/nodes/n1')).allowed).toBe(true)
  })

  it('lists the rules bound to a user in a namespace, resource and non-resource apart', () => {
    const discovery: Binding = {metadata: {name: 'discovery'}, roleRef: roleRef('ClusterRole', 'discovery'), subjects: [{kind: 'Group', name: 'system:authenticated'}]}
    const rbac = policy([inCi, discovery], {...role, discovery: [{verbs: ['get'], nonResourceURLs: ['/api']}]})
    expect(rulesFor(rbac, ci, 'ci')).toEqual({
      resourceRules: [{verbs: ['list'], apiGroups: [''], resources: ['pods']}],
      nonResourceRules: [{verbs: ['get'], nonResourceURLs: ['/api']}],
      incomplete: false,
    })
  })
})

describe('403 bodies worded as kube-apiserver words them', () => {
  const body = (method: string, path: string, reason = '') => forbiddenRequest(request(method, path), ci.name, reason).toStatus()

  it('names user, verb, resource, group and namespace, with details.kind the resource', () => {
    expect(body('GET', '/api/v1/namespaces/ci/pods')).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, details: {kind: 'pods'},
      message: 'pods is forbidden: User "system:serviceaccount:ci:runner" cannot list resource "pods" in API group "" in the namespace "ci"',
    })
  })

  it('qualifies a grouped resource, names the object and the subresource', () => {
    expect(body('PATCH', '/apis/apps/v1/namespaces/ci/statefulsets/redis/scale')).toMatchObject({
      details: {name: 'redis', group: 'apps', kind: 'statefulsets'},
      message: 'statefulsets.apps "redis" is forbidden: User "system:serviceaccount:ci:runner" cannot patch resource "statefulsets/scale" in API group "apps" in the namespace "ci"',
    })
  })

  it('says "at the cluster scope" for cluster-scoped requests, and "path" for non-resource ones', () => {
    expect(body('GET', '/api/v1/nodes').message).toBe('nodes is forbidden: User "system:serviceaccount:ci:runner" cannot list resource "nodes" in API group "" at the cluster scope')
    expect(body('GET', '/version')).toMatchObject({details: {}, message: 'forbidden: User "system:serviceaccount:ci:runner" cannot get path "/version"'})
  })

  it('appends the authorizer\'s reason', () => {
    expect(body('GET', '/api/v1/namespaces/ci/pods', 'RBAC: role.rbac.authorization.k8s.io "gone" not found').message)
      .toMatch(/in the namespace "ci": RBAC: role\.rbac\.authorization\.k8s\.io "gone" not found$/)
  })
})

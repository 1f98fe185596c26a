import {writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {sandboxKubeconfig} from '../../src/sandbox/kubeconfig.js'
import {type ApiFixture, expectStatus, kubectl, rawFetch, startApiFixture} from './apiserver-fixture.js'
import {refusal} from './port-forward-clients.js'

/**
 * Authentication and RBAC as a kube-apiserver with its default flags (--anonymous-auth=true) and RBAC does them,
 * seen through kubectl and raw HTTPS: a ServiceAccount of namespace `ci` whose token comes from `kubectl create
 * token`, bound by Roles applied with `kubectl apply`.
 */

let api: ApiFixture
/** The same kubectl helper, pointed at a kubeconfig of the ServiceAccount ci/runner. */
let asRunner: (args: string[]) => ReturnType<typeof kubectl>
let runnerToken: string

const ROLE = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: ci}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: runner-reads-pods, namespace: ci}
subjects: [{kind: ServiceAccount, name: runner}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
`

async function applyAsAdmin(yaml: string): Promise<void> {
  const file = join(dirname(api.kubeconfig), `apply-${Date.now()}.yaml`)
  await writeFile(file, yaml)
  const applied = await kubectl(api, ['apply', '-f', file])
  expect(applied.code, applied.stderr).toBe(0)
}

beforeAll(async () => {
  api = await startApiFixture()
  await applyAsAdmin('apiVersion: v1\nkind: Namespace\nmetadata: {name: ci}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: runner, namespace: ci}\n')
  const token = await kubectl(api, ['create', 'token', 'runner', '-n', 'ci'])
  expect(token.code, token.stderr).toBe(0)
  runnerToken = token.stdout.trim()
  const file = join(dirname(api.kubeconfig), 'runner-kubeconfig')
  await writeFile(file, sandboxKubeconfig({server: api.server.url, ca: api.server.ca}, {token: runnerToken, context: 'runner', namespace: 'ci'}))
  asRunner = (args) => kubectl({...api, kubeconfig: file}, args)
})
afterAll(async () => api?.stop())

describe('authentication', () => {
  it('answers a request without a token as system:anonymous: /version is open, listing pods is 403', async () => {
    expect((await rawFetch(api.server, '/version')).status).toBe(200)
    const pods = await rawFetch(api.server, '/api/v1/namespaces/ci/pods')
    expect(pods.status).toBe(403)
    expect(await pods.json()).toEqual({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, details: {kind: 'pods'},
      message: 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "ci"'})
  })

  it('refuses a token it does not know with 401 Unauthorized, worded as kube-apiserver words it', async () => {
    const res = await rawFetch(api.server, '/api/v1/namespaces/ci/pods', {token: 'not-a-token'})
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401})
    const kubectlSays = await kubectl(api, ['--token', 'not-a-token', 'get', 'pods', '-n', 'ci'])
    expect(kubectlSays.stderr).toContain('error: You must be logged in to the server (Unauthorized)')
  })

  it('knows the token of kubectl create token as the ServiceAccount, in its groups (kubectl auth whoami)', async () => {
    const whoami = await asRunner(['auth', 'whoami', '-o', 'json'])
    expect(whoami.code, whoami.stderr).toBe(0)
    expect(JSON.parse(whoami.stdout).status.userInfo).toMatchObject({
      username: 'system:serviceaccount:ci:runner', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
    })
  })

  it('ends a token\'s life with its ServiceAccount, even when one of the same name is created again', async () => {
    await applyAsAdmin('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: short-lived, namespace: ci}\n')
    const token = (await kubectl(api, ['create', 'token', 'short-lived', '-n', 'ci'])).stdout.trim()
    const whoami = (): Promise<Response> => rawFetch(api.server, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {method: 'POST', token, body: '{}', headers: {'Content-Type': 'application/json'}})
    expect((await whoami()).status).toBe(201)
    await api.core.deleteNamespacedServiceAccount({name: 'short-lived', namespace: 'ci'})
    await applyAsAdmin('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: short-lived, namespace: ci}\n')
    expect((await whoami()).status).toBe(401)
  })

  it('refuses a token that would live less than ten minutes', async () => {
    await expectStatus(api.core.createNamespacedServiceAccountToken({name: 'runner', namespace: 'ci', body: {spec: {audiences: [], expirationSeconds: 599}}}),
      422, 'Invalid', 'TokenRequest.authentication.k8s.io "runner" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes')
  })
})

describe('RBAC', () => {
  it('refuses a ServiceAccount bound to nothing, with the real 403 message', async () => {
    const got = await asRunner(['get', 'pods'])
    expect(got.code).not.toBe(0)
    expect(got.stderr).toContain('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:ci:runner" cannot list resource "pods" in API group "" in the namespace "ci"')
  })

  it('allows exactly what a Role applied with kubectl apply and bound to it says, in its namespace only', async () => {
    await applyAsAdmin(ROLE)
    expect((await asRunner(['get', 'pods'])).code).toBe(0)
    expect((await asRunner(['get', 'secrets'])).stderr).toContain('User "system:serviceaccount:ci:runner" cannot list resource "secrets" in API group "" in the namespace "ci"')
    expect((await asRunner(['get', 'pods', '-n', 'default'])).stderr).toContain('cannot list resource "pods" in API group "" in the namespace "default"')
    expect((await asRunner(['get', 'nodes'])).stderr).toContain('nodes is forbidden: User "system:serviceaccount:ci:runner" cannot list resource "nodes" in API group "" at the cluster scope')
  })

  it('answers kubectl auth can-i for the admin and the ServiceAccount, subresources included', async () => {
    await applyAsAdmin(ROLE)
    expect((await kubectl(api, ['auth', 'can-i', 'delete', 'nodes'])).stdout.trim()).toBe('yes')
    expect((await asRunner(['auth', 'can-i', 'list', 'pods'])).stdout.trim()).toBe('yes')
    const forward = await asRunner(['auth', 'can-i', 'create', 'pods', '--subresource=portforward'])
    expect([forward.code, forward.stdout.trim()]).toEqual([1, 'no'])
    const listed = await asRunner(['auth', 'can-i', '--list'])
    expect(listed.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list\]$/m)
    expect(listed.stdout).toMatch(/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m)
  })

  it('lets the admin act as the ServiceAccount (kubectl --as), and not the ServiceAccount as anyone else', async () => {
    await applyAsAdmin(ROLE)
    const as = (args: string[]): ReturnType<typeof kubectl> => kubectl(api, [...args, '--as', 'system:serviceaccount:ci:runner'])
    expect((await as(['auth', 'can-i', 'list', 'pods', '-n', 'ci'])).stdout.trim()).toBe('yes')
    expect((await as(['auth', 'can-i', 'list', 'secrets', '-n', 'ci'])).stdout.trim()).toBe('no')
    expect((await asRunner(['get', 'pods', '--as', 'redisctl-sandbox-admin'])).stderr)
      .toContain('users "redisctl-sandbox-admin" is forbidden: User "system:serviceaccount:ci:runner" cannot impersonate resource "users" in API group "" at the cluster scope')
  })

  it('authorizes a port-forward upgrade (WebSocket, a GET) as get on pods/portforward, before looking for the pod', async () => {
    const refused = await refusal(api.server, 'ci', 'redis-0', runnerToken)
    expect(refused.status).toBe(403)
    expect(JSON.parse(refused.body)).toMatchObject({reason: 'Forbidden', details: {name: 'redis-0', kind: 'pods'},
      message: 'pods "redis-0" is forbidden: User "system:serviceaccount:ci:runner" cannot get resource "pods/portforward" in API group "" in the namespace "ci"'})
  })

  it('names a binding\'s missing role in the refusal', async () => {
    await applyAsAdmin(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dangling, namespace: ci}
subjects: [{kind: ServiceAccount, name: runner}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: not-there}
`)
    expect((await asRunner(['get', 'configmaps'])).stderr).toContain('cannot list resource "configmaps" in API group "" in the namespace "ci": RBAC: role.rbac.authorization.k8s.io "not-there" not found')
  })

  it('refuses to point a binding at another role, as the real API does', async () => {
    await applyAsAdmin(ROLE)
    const changed = await kubectl(api, ['patch', 'rolebinding', 'runner-reads-pods', '-n', 'ci', '--type', 'merge', '-p', '{"roleRef":{"name":"admin","kind":"ClusterRole"}}'])
    expect(changed.stderr).toContain('cannot change roleRef')
  })

  it('serves the RBAC kinds in discovery, and the default ClusterRoles and their bindings', async () => {
    const resources = await kubectl(api, ['api-resources', '--api-group', 'rbac.authorization.k8s.io', '-o', 'name'])
    expect(resources.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'clusterrolebindings.rbac.authorization.k8s.io', 'clusterroles.rbac.authorization.k8s.io',
      'rolebindings.rbac.authorization.k8s.io', 'roles.rbac.authorization.k8s.io',
    ])
    const roles = await kubectl(api, ['get', 'clusterroles', '-o', 'name'])
    expect(roles.stdout).toEqual(expect.stringContaining('clusterrole.rbac.authorization.k8s.io/cluster-admin'))
    for (const name of ['admin', 'edit', 'view', 'system:discovery', 'system:basic-user']) expect(roles.stdout).toContain(`clusterrole.rbac.authorization.k8s.io/${name}\n`)
    const bindings = await kubectl(api, ['get', 'clusterrolebinding', 'cluster-admin', '-o', 'wide'])
    expect(bindings.stdout).toMatch(/cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters/)
  })
})

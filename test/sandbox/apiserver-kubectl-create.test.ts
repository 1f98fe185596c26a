import {writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {RbacAuthorizationV1Api} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {sandboxKubeconfig} from '../../src/sandbox/kubeconfig.js'
import {type ApiFixture, failure, kubectl, rawFetch, startApiFixture} from './apiserver-fixture.js'

/**
 * kubectl's `create` generators send their objects as protobuf (Content-Type application/vnd.kubernetes.protobuf),
 * as redisctl's own hint for the password Secret does: the sandbox reads them as a real API server does, into the
 * same object, admission, RBAC and storage as JSON.
 */

let api: ApiFixture
let rbac: RbacAuthorizationV1Api
const b64 = (text: string): string => Buffer.from(text).toString('base64')

beforeAll(async () => {
  api = await startApiFixture()
  rbac = api.kc.makeApiClient(RbacAuthorizationV1Api)
  const ns = await kubectl(api, ['create', 'namespace', 'app'])
  expect(ns.stderr).toBe('')
  expect(ns.stdout).toBe('namespace/app created\n')
}, 120_000)
afterAll(async () => api?.stop())

describe('kubectl create secret generic', () => {
  it('stores a --from-literal value, read back through the JSON API', async () => {
    const res = await kubectl(api, ['-n', 'app', 'create', 'secret', 'generic', 'literal', '--from-literal=password=x'])
    expect(res.stderr).toBe('')
    expect(res.stdout).toBe('secret/literal created\n')
    const secret = await api.core.readNamespacedSecret({namespace: 'app', name: 'literal'})
    expect(secret.data).toEqual({password: b64('x')})
    expect(secret.type).toBe('Opaque')
  })

  it('stores the password given on standard input with --from-file=password=/dev/stdin, as redisctl\'s hint says', async () => {
    const password = 'p@ss word\nwith a newline and ünicode'
    const res = await kubectl(api, ['-n', 'app', 'create', 'secret', 'generic', 'stdin', '--from-file=password=/dev/stdin'], {}, password)
    expect(res.stderr).toBe('')
    const secret = await api.core.readNamespacedSecret({namespace: 'app', name: 'stdin'})
    expect(secret.data).toEqual({password: b64(password)})
  })

  it('keeps the last-applied annotation of --save-config, so that a later kubectl apply merges into it', async () => {
    const res = await kubectl(api, ['-n', 'app', 'create', 'secret', 'generic', 'saved', '--from-literal=password=x', '--save-config'])
    expect(res.stderr).toBe('')
    const secret = await api.core.readNamespacedSecret({namespace: 'app', name: 'saved'})
    expect(JSON.parse(secret.metadata!.annotations!['kubectl.kubernetes.io/last-applied-configuration'])).toMatchObject({data: {password: b64('x')}})
  })

  it('checks but stores nothing with --dry-run=server', async () => {
    const res = await kubectl(api, ['-n', 'app', 'create', 'secret', 'generic', 'dry', '--from-literal=password=x', '--dry-run=server'])
    expect(res.stdout).toBe('secret/dry created (server dry run)\n')
    expect((await failure(api.core.readNamespacedSecret({namespace: 'app', name: 'dry'}))).code).toBe(404)
  })

  it('answers a second create of the same name with AlreadyExists and keeps the first value', async () => {
    const res = await kubectl(api, ['-n', 'app', 'create', 'secret', 'generic', 'literal', '--from-literal=password=y'])
    expect(res.code).toBe(1)
    expect(res.stderr).toBe('error: failed to create secret secrets "literal" already exists\n')
    expect((await api.core.readNamespacedSecret({namespace: 'app', name: 'literal'})).data).toEqual({password: b64('x')})
  })
})

describe('kubectl create for RBAC', () => {
  it('creates a ServiceAccount, a Role and a RoleBinding that RBAC then enforces: 403 with the Status body of a JSON request', async () => {
    for (const args of [
      ['create', 'serviceaccount', 'runner'],
      ['create', 'role', 'secret-reader', '--verb=get,list', '--resource=secrets', '--resource-name=literal'],
      ['create', 'rolebinding', 'runner-reads', '--role=secret-reader', '--serviceaccount=app:runner', '--user=alice'],
    ]) {
      const res = await kubectl(api, ['-n', 'app', ...args])
      expect(res.stderr, args.join(' ')).toBe('')
    }
    expect((await rbac.readNamespacedRole({namespace: 'app', name: 'secret-reader'})).rules)
      .toEqual([{verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'], resourceNames: ['literal']}])
    const binding = await rbac.readNamespacedRoleBinding({namespace: 'app', name: 'runner-reads'})
    expect(binding.roleRef).toEqual({apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secret-reader'})
    expect(binding.subjects).toEqual([
      {kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice'},
      {kind: 'ServiceAccount', name: 'runner', namespace: 'app'},
    ])

    const token = await kubectl(api, ['-n', 'app', 'create', 'token', 'runner'])
    expect(token.code, token.stderr).toBe(0)
    const file = join(dirname(api.kubeconfig), 'runner-kubeconfig')
    await writeFile(file, sandboxKubeconfig({server: api.server.url, ca: api.server.ca}, {token: token.stdout.trim(), context: 'runner', namespace: 'app'}))
    const asRunner = {kubeconfig: file}
    expect((await kubectl(asRunner, ['get', 'secret', 'literal', '-o', 'jsonpath={.data.password}'])).stdout).toBe(b64('x'))

    const refused = await kubectl(asRunner, ['create', 'secret', 'generic', 'mine', '--from-literal=password=x', '-v=8'])
    expect(refused.code).toBe(1)
    // -v=8 logs the answer's body as a Go-quoted string.
    const protobufStatus = JSON.parse(JSON.parse(/"Response Body" body=("(?:[^"\\]|\\.)*")/.exec(refused.stderr)![1]) as string) as unknown
    const json = await rawFetch(api.server, '/api/v1/namespaces/app/secrets', {
      method: 'POST', token: token.stdout.trim(), headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'mine'}, stringData: {password: 'x'}}),
    })
    expect(json.status).toBe(403)
    expect(protobufStatus).toEqual(await json.json())
    expect(protobufStatus).toMatchObject({reason: 'Forbidden', message: 'secrets is forbidden: User "system:serviceaccount:app:runner" cannot create resource "secrets" in API group "" in the namespace "app"'})
  })

  it('creates a ClusterRole with a non-resource URL and a ClusterRoleBinding to it', async () => {
    expect((await kubectl(api, ['create', 'clusterrole', 'health', '--verb=get', '--non-resource-url=/healthz'])).stderr).toBe('')
    expect((await kubectl(api, ['create', 'clusterrolebinding', 'health-all', '--clusterrole=health', '--group=system:authenticated'])).stderr).toBe('')
    expect((await rbac.readClusterRole({name: 'health'})).rules).toEqual([{verbs: ['get'], nonResourceURLs: ['/healthz']}])
    expect((await rbac.readClusterRoleBinding({name: 'health-all'})).subjects)
      .toEqual([{kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:authenticated'}])
  })
})

describe('kubectl create configmap', () => {
  it('stores text as data and a file that is not UTF-8 as binaryData', async () => {
    const file = join(dirname(api.kubeconfig), 'blob.bin')
    await writeFile(file, Buffer.from([0xff, 0x00, 0xfe]))
    const res = await kubectl(api, ['-n', 'app', 'create', 'configmap', 'settings', '--from-literal=mode=fast', `--from-file=blob=${file}`])
    expect(res.stderr).toBe('')
    const cm = await api.core.readNamespacedConfigMap({namespace: 'app', name: 'settings'})
    expect(cm.data).toEqual({mode: 'fast'})
    expect(cm.binaryData).toEqual({blob: Buffer.from([0xff, 0x00, 0xfe]).toString('base64')})
  })
})

it('refuses protobuf of a kind the sandbox does not read (415), naming the kind', async () => {
  const res = await kubectl(api, ['-n', 'app', 'create', 'service', 'clusterip', 'redis', '--tcp=6379'])
  expect(res.code).toBe(1)
  expect(res.stderr).toBe('error: failed to create ClusterIP service: Service cannot be sent as protobuf to the sandbox - accepted media types include: application/json, application/yaml\n')
})

it('refuses a protobuf field it does not read with 400 instead of dropping it', async () => {
  const res = await kubectl(api, ['create', 'clusterrole', 'aggregated', '--aggregation-rule=rbac.example.com/aggregate=true'])
  expect(res.code).toBe(1)
  expect(res.stderr).toBe('Error from server (BadRequest): protobuf: ClusterRole: field 3 is not read by the sandbox; send the object as JSON\n')
  expect((await failure(rbac.readClusterRole({name: 'aggregated'}))).code).toBe(404)
})

import {spawn} from 'node:child_process'
import {writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {humanDuration} from '../../src/sandbox/apiserver/table.js'
import {type ApiFixture, eventually, kubectl, podManifest, startApiFixture} from './apiserver-fixture.js'

let api: ApiFixture
beforeAll(async () => {
  api = await startApiFixture()
  await api.core.createNode({body: {metadata: {name: 'node-1', labels: {'topology.kubernetes.io/zone': 'zone-a'}},
    status: {conditions: [{type: 'Ready', status: 'True'}], nodeInfo: {
      kubeletVersion: 'v1.32.0', kubeProxyVersion: '', architecture: 'amd64', operatingSystem: 'linux', osImage: 'Debian', kernelVersion: '6.1',
      containerRuntimeVersion: 'redis-server', bootID: '', machineID: '', systemUUID: '',
    }, addresses: [{type: 'InternalIP', address: '127.0.0.1'}]}}})
})
afterAll(async () => api?.stop())

const manifest = (image: string, replicas: number): string => `
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: redis
  namespace: default
spec:
  replicas: ${replicas}
  serviceName: redis
  selector:
    matchLabels: {app: redis}
  template:
    metadata:
      labels: {app: redis}
    spec:
      containers:
      - name: redis
        image: ${image}
        command: [redis-server]
        ports: [{containerPort: 6379, name: redis}]
---
apiVersion: v1
kind: Service
metadata:
  name: redis
  namespace: default
spec:
  clusterIP: None
  selector: {app: redis}
  ports: [{port: 6379, name: redis}]
`

describe('AGE column', () => {
  it.each([[5_000, '5s'], [119_000, '119s'], [330_000, '5m30s'], [1_800_000, '30m'], [16_200_000, '4h30m'], [90_000_000, '25h'], [190_800_000, '2d5h'], [864_000_000, '10d']])(
    'shows %i ms as %s, like kubectl', (ms, text) => {
      expect(humanDuration(ms)).toBe(text)
    })
})

describe('kubectl', () => {
  it('applies a StatefulSet manifest, then re-applies a change to it', async () => {
    const file = join(dirname(api.kubeconfig), 'redis.yaml')
    await writeFile(file, manifest('redis:7.0', 3))
    const first = await kubectl(api, ['apply', '-f', file])
    expect(first.stderr).toBe('')
    expect(first.stdout).toBe('statefulset.apps/redis created\nservice/redis created\n')
    await writeFile(file, manifest('redis:7.2', 3))
    const second = await kubectl(api, ['apply', '-f', file])
    expect(second.stdout).toBe('statefulset.apps/redis configured\nservice/redis unchanged\n')
    const sts = await api.apps.readNamespacedStatefulSet({namespace: 'default', name: 'redis'})
    expect(sts.spec!.template.spec!.containers[0].image).toBe('redis:7.2')
    expect(sts.metadata!.generation).toBe(2)
  })

  it('scales a StatefulSet', async () => {
    const res = await kubectl(api, ['scale', 'sts', 'redis', '--replicas=5'])
    expect(res.stdout).toBe('statefulset.apps/redis scaled\n')
    expect((await api.apps.readNamespacedStatefulSet({namespace: 'default', name: 'redis'})).spec!.replicas).toBe(5)
  })

  it('shows nodes, pods, claims, StatefulSets and Services in wide tables', async () => {
    await api.core.createNamespacedPod({namespace: 'default', body: podManifest('redis-0', {app: 'redis'})})
    await api.core.createNamespacedPodBinding({namespace: 'default', name: 'redis-0', body: {metadata: {name: 'redis-0'}, target: {kind: 'Node', name: 'node-1'}}})
    await api.core.patchNamespacedPodStatus({namespace: 'default', name: 'redis-0', body: [{op: 'add', path: '/status/podIP', value: '127.1.2.3'}]})
    await api.core.createNamespacedPersistentVolumeClaim({namespace: 'default', body: {metadata: {name: 'data-redis-0'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}}})
    const {stdout} = await kubectl(api, ['get', 'nodes,pods,pvc,sts,svc', '-o', 'wide'])
    const lines = stdout.split('\n').map((l) => l.trim().split(/\s{2,}/))
    expect(lines).toContainEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'])
    expect(lines).toContainEqual(expect.arrayContaining(['node/node-1', 'Ready', '<none>', 'v1.32.0', '127.0.0.1']))
    expect(lines).toContainEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'])
    expect(lines).toContainEqual(expect.arrayContaining(['pod/redis-0', '0/1', 'Pending', '0', '127.1.2.3', 'node-1']))
    expect(lines).toContainEqual(expect.arrayContaining(['persistentvolumeclaim/data-redis-0', 'Pending']))
    expect(lines).toContainEqual(['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES'])
    expect(lines).toContainEqual(expect.arrayContaining(['statefulset.apps/redis', '0/5', 'redis', 'redis:7.2']))
    expect(lines).toContainEqual(expect.arrayContaining(['service/redis', 'ClusterIP', 'None', '<none>', '6379/TCP', 'app=redis']))
  })

  it('deletes a pod', async () => {
    await api.core.createNamespacedPod({namespace: 'default', body: podManifest('scratch')})
    const res = await kubectl(api, ['delete', 'pod', 'scratch'])
    expect(res.stdout).toBe('pod "scratch" deleted\n')
    expect((await api.core.listNamespacedPod({namespace: 'default', fieldSelector: 'metadata.name=scratch'})).items).toEqual([])
  })

  it('prints the server\'s NotFound message', async () => {
    const res = await kubectl(api, ['get', 'pod', 'nope'])
    expect(res.code).toBe(1)
    expect(res.stderr).toBe('Error from server (NotFound): pods "nope" not found\n')
  })

  it('streams pod changes with get -w', async () => {
    const child = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'get', 'pods', '-w', '-l', 'watch=me'], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    try {
      await api.core.createNamespacedPod({namespace: 'default', body: podManifest('watched', {watch: 'me'})})
      await eventually(() => expect(out).toMatch(/watched\s+0\/1\s+Pending/), 10_000)
      await api.core.patchNamespacedPodStatus({namespace: 'default', name: 'watched', body: [{op: 'replace', path: '/status/phase', value: 'Running'}]})
      await eventually(() => expect(out).toMatch(/watched\s+0\/1\s+Running/), 10_000)
    } finally {
      child.kill()
    }
  })
})

import {PatchStrategy, setHeaderOptions, type V1Pod} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {jsonPatch, mergePatch, strategicMerge} from '../../src/sandbox/apiserver/patch.js'
import {type ApiFixture, expectStatus, startApiFixture} from './apiserver-fixture.js'

const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

describe('strategic merge (pure)', () => {
  const pod = {
    spec: {
      containers: [
        {name: 'redis', image: 'redis:7.0', env: [{name: 'A', value: '1'}], ports: [{containerPort: 6379, name: 'redis'}], volumeMounts: [{name: 'data', mountPath: '/data'}]},
        {name: 'exporter', image: 'exporter:1'},
      ],
      volumes: [{name: 'data', emptyDir: {}}],
    },
    status: {conditions: [{type: 'Ready', status: 'False'}, {type: 'PodScheduled', status: 'True'}]},
    metadata: {finalizers: ['a']},
  }

  it('merges containers, env, ports and volumeMounts by their merge keys', () => {
    const out = strategicMerge(pod, {spec: {containers: [{name: 'redis', image: 'redis:7.2', env: [{name: 'B', value: '2'}], ports: [{containerPort: 6379, protocol: 'TCP'}]}]}}) as typeof pod
    expect(out.spec.containers.map((c) => c.name)).toEqual(['redis', 'exporter'])
    expect(out.spec.containers[0]).toMatchObject({image: 'redis:7.2', env: [{name: 'A', value: '1'}, {name: 'B', value: '2'}],
      ports: [{containerPort: 6379, name: 'redis', protocol: 'TCP'}], volumeMounts: [{name: 'data', mountPath: '/data'}]})
  })

  it('merges conditions by type, where a merge patch would replace the list', () => {
    const patch = {status: {conditions: [{type: 'Ready', status: 'True'}]}}
    expect((strategicMerge(pod, patch) as typeof pod).status.conditions).toEqual([{type: 'Ready', status: 'True'}, {type: 'PodScheduled', status: 'True'}])
    expect((mergePatch(pod, patch) as typeof pod).status.conditions).toEqual([{type: 'Ready', status: 'True'}])
  })

  it('deletes a list element with $patch: delete and a field with null', () => {
    const out = strategicMerge(pod, {spec: {containers: [{name: 'exporter', $patch: 'delete'}], volumes: null}}) as typeof pod
    expect(out.spec.containers.map((c) => c.name)).toEqual(['redis'])
    expect(out.spec.volumes).toBeUndefined()
  })

  it('replaces a list with $patch: replace and honours $retainKeys and $setElementOrder', () => {
    const replaced = strategicMerge(pod, {spec: {volumes: [{name: 'other', hostPath: {path: '/x'}}, {$patch: 'replace'}]}}) as typeof pod
    expect(replaced.spec.volumes).toEqual([{name: 'other', hostPath: {path: '/x'}}])
    const retained = strategicMerge({strategy: {type: 'RollingUpdate', rollingUpdate: {partition: 1}}}, {strategy: {$retainKeys: ['type'], type: 'OnDelete'}})
    expect(retained).toEqual({strategy: {type: 'OnDelete'}})
    const ordered = strategicMerge(pod, {spec: {'$setElementOrder/containers': [{name: 'exporter'}, {name: 'redis'}]}}) as typeof pod
    expect(ordered.spec.containers.map((c) => c.name)).toEqual(['exporter', 'redis'])
  })

  it('unions finalizers', () => {
    expect((strategicMerge(pod, {metadata: {finalizers: ['b', 'a']}}) as typeof pod).metadata.finalizers).toEqual(['a', 'b'])
  })

  it('applies RFC 6902 operations, including test', () => {
    const out = jsonPatch({a: {b: [1, 2]}}, [{op: 'add', path: '/a/b/-', value: 3}, {op: 'replace', path: '/a/b/0', value: 0}, {op: 'move', from: '/a/b', path: '/c'}, {op: 'test', path: '/c/2', value: 3}])
    expect(out).toEqual({a: {}, c: [0, 2, 3]})
    expect(() => jsonPatch({a: 1}, [{op: 'test', path: '/a', value: 2}])).toThrow('testing value /a failed')
    expect(() => jsonPatch({a: 1}, [{op: 'remove', path: '/b'}])).toThrow()
  })
})

describe('PATCH over HTTP', () => {
  let api: ApiFixture
  beforeAll(async () => {
    api = await startApiFixture()
    await api.core.createNamespacedPod({namespace: 'default', body: {metadata: {name: 'p'}, spec: {containers: [
      {name: 'redis', image: 'redis:7.0', command: ['redis-server']},
      {name: 'sidecar', image: 'busybox:1'},
    ]}}})
  })
  afterAll(async () => api?.stop())

  it('strategic-merges pod status conditions by type, as the kubelet patches them', async () => {
    await api.core.patchNamespacedPodStatus({namespace: 'default', name: 'p', body: {status: {phase: 'Running', conditions: [{type: 'Ready', status: 'False'}, {type: 'ContainersReady', status: 'False'}]}}}, strategic)
    const pod: V1Pod = await api.core.patchNamespacedPodStatus({namespace: 'default', name: 'p', body: {status: {conditions: [{type: 'Ready', status: 'True'}]}}}, strategic)
    expect(pod.status!.conditions!.map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=True', 'ContainersReady=False'])
  })

  it('strategic-merges a container\'s image by name, leaving the other container alone', async () => {
    const pod = await api.core.patchNamespacedPod({namespace: 'default', name: 'p', body: {spec: {containers: [{name: 'sidecar', image: 'busybox:2'}]}}}, strategic)
    expect(pod.spec!.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['redis=redis:7.0', 'sidecar=busybox:2'])
  })

  it('applies a JSON patch (client-node\'s default patch type)', async () => {
    const pod = await api.core.patchNamespacedPod({namespace: 'default', name: 'p', body: [{op: 'add', path: '/metadata/labels', value: {role: 'master'}}]})
    expect(pod.metadata!.labels).toEqual({role: 'master'})
  })

  it('removes a label with a merge patch null', async () => {
    const pod = await api.core.patchNamespacedPod({namespace: 'default', name: 'p', body: {metadata: {labels: {role: null}}}}, merge)
    expect(pod.metadata!.labels).toEqual({})
  })

  it('answers a JSON patch on a missing path with 400 and a missing pod with 404', async () => {
    const bad = await api.fetch(`/api/v1/namespaces/default/pods/p`, {method: 'PATCH', headers: {'Content-Type': 'application/json-patch+json'}, body: '[{"op":"remove","path":"/spec/nothing"}]'})
    expect(bad.status).toBe(400)
    await expectStatus(api.core.patchNamespacedPod({namespace: 'default', name: 'ghost', body: {metadata: {labels: {a: 'b'}}}}, merge), 404, 'NotFound', 'pods "ghost" not found')
  })

  it('refuses a patch in an unknown format with 415', async () => {
    const res = await api.fetch(`/api/v1/namespaces/default/pods/p`, {method: 'PATCH', headers: {'Content-Type': 'text/plain'}, body: 'x'})
    expect(res.status).toBe(415)
    expect(await res.json()).toMatchObject({kind: 'Status', reason: 'UnsupportedMediaType', code: 415})
  })

  it('creates and then updates an object with a server-side apply patch', async () => {
    const url = '/api/v1/namespaces/default/configmaps/applied?fieldManager=test'
    const apply = (data: Record<string, string>): Promise<Response> => api.fetch(url, {method: 'PATCH', headers: {'Content-Type': 'application/apply-patch+yaml'},
      body: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}\n`})
    expect((await apply({a: '1'})).status).toBe(201)
    expect((await apply({a: '2'})).status).toBe(200)
    expect((await api.core.readNamespacedConfigMap({namespace: 'default', name: 'applied'})).data).toEqual({a: '2'})
  })
})

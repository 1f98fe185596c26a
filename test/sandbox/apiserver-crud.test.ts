import {PatchStrategy, setHeaderOptions, StorageV1Api, type V1Pod, type V1StatefulSet} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {PreconditionError} from '../../src/errors.js'
import {startApiServer} from '../../src/sandbox/apiserver/server.js'
import {type ApiFixture, expectStatus, failure, podManifest, rawFetch, type RawRequest, startApiFixture} from './apiserver-fixture.js'

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

function statefulSet(name: string, replicas = 1): V1StatefulSet {
  return {
    metadata: {name},
    spec: {
      replicas, serviceName: name, selector: {matchLabels: {app: name}},
      template: {metadata: {labels: {app: name}}, spec: {containers: [{name: 'redis', image: 'redis:7.0'}]}},
    },
  }
}

let api: ApiFixture
beforeAll(async () => {
  api = await startApiFixture()
})
afterAll(async () => api?.stop())

const raw = (path: string, init?: RawRequest): Promise<Response> => api.fetch(path, init)

interface ResourceList {
  resources: Array<{name: string; namespaced: boolean}>
}
const discover = async (path: string): Promise<ResourceList> => (await raw(path)).json() as Promise<ResourceList>

describe('discovery', () => {
  it('lists core resources with short names, verbs and subresources', async () => {
    const list = await discover('/api/v1')
    const pods = list.resources.find((r) => r.name === 'pods')
    expect(pods).toMatchObject({kind: 'Pod', namespaced: true, shortNames: ['po'], verbs: expect.arrayContaining(['watch', 'deletecollection', 'patch'])})
    const names = list.resources.map((r) => r.name)
    expect(names).toEqual(expect.arrayContaining(['pods/status', 'pods/binding', 'pods/portforward', 'persistentvolumes', 'nodes', 'events']))
    expect(list.resources.find((r) => r.name === 'persistentvolumes')?.namespaced).toBe(false)
  })

  it('serves the apps, policy, storage and RBAC groups, with statefulsets/scale as autoscaling/v1 Scale and controllerrevisions', async () => {
    const groups = await (await raw('/apis')).json() as {groups: Array<{name: string}>}
    expect(groups.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['apps', 'policy', 'storage.k8s.io', 'rbac.authorization.k8s.io', 'authorization.k8s.io', 'authentication.k8s.io']))
    const apps = await discover('/apis/apps/v1')
    expect(apps.resources).toContainEqual(expect.objectContaining({name: 'statefulsets/scale', group: 'autoscaling', version: 'v1', kind: 'Scale'}))
    expect(apps.resources).toContainEqual(expect.objectContaining({name: 'statefulsets', shortNames: ['sts']}))
    expect(apps.resources).toContainEqual(expect.objectContaining({name: 'controllerrevisions', kind: 'ControllerRevision', namespaced: true}))
    const storage = await discover('/apis/storage.k8s.io/v1')
    expect(storage.resources).toContainEqual(expect.objectContaining({name: 'storageclasses', kind: 'StorageClass', namespaced: false, shortNames: ['sc']}))
    const policy = await discover('/apis/policy/v1')
    expect(policy.resources[0]).toMatchObject({name: 'poddisruptionbudgets', shortNames: ['pdb']})
  })

  it('answers an unknown resource with a NotFound Status', async () => {
    const res = await raw('/api/v1/widgets')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({kind: 'Status', reason: 'NotFound', message: 'the server could not find the requested resource'})
  })
})

describe('create and read', () => {
  it('fills in uid, resourceVersion, creationTimestamp and pod defaults', async () => {
    const pod = await api.core.createNamespacedPod({namespace: 'default', body: podManifest('fresh')})
    expect(pod.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/)
    expect(pod.metadata?.resourceVersion).toMatch(/^\d+$/)
    expect(pod.metadata?.creationTimestamp).toBeInstanceOf(Date)
    expect(pod.spec?.restartPolicy).toBe('Always')
    expect(pod.status?.phase).toBe('Pending')
  })

  it('names an object from generateName', async () => {
    const cm = await api.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {generateName: 'conf-'}}})
    expect(cm.metadata?.name).toMatch(/^conf-[a-z0-9]{5}$/)
  })

  it('answers a missing pod with 404 and the real message', async () => {
    const body = await expectStatus(api.core.readNamespacedPod({namespace: 'default', name: 'ghost'}), 404, 'NotFound', 'pods "ghost" not found')
    expect(body.details).toEqual({name: 'ghost', kind: 'pods'})
  })

  it('names the group of a missing StatefulSet', async () => {
    const body = await expectStatus(api.apps.readNamespacedStatefulSet({namespace: 'default', name: 'ghost'}), 404, 'NotFound', 'statefulsets.apps "ghost" not found')
    expect(body.details).toEqual({name: 'ghost', group: 'apps', kind: 'statefulsets'})
  })

  it('refuses a second object with the same name as AlreadyExists', async () => {
    await api.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: 'twice'}}})
    await expectStatus(api.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: 'twice'}}}), 409, 'AlreadyExists', 'configmaps "twice" already exists')
  })

  it('refuses to create in a namespace that does not exist', async () => {
    await expectStatus(api.core.createNamespacedConfigMap({namespace: 'nowhere', body: {metadata: {name: 'x'}}}), 404, 'NotFound', 'namespaces "nowhere" not found')
  })

  it('refuses an object without a name as Invalid', async () => {
    const body = await expectStatus(api.core.createNamespacedPod({namespace: 'default', body: {spec: podManifest('x').spec}}), 422, 'Invalid',
      'Pod "" is invalid: metadata.name: Required value: name or generateName is required')
    expect(body.details).toMatchObject({kind: 'Pod', causes: [{reason: 'FieldValueRequired', field: 'metadata.name'}]})
  })

  it('refuses malformed JSON and the wrong kind as BadRequest', async () => {
    const bad = await raw('/api/v1/namespaces/default/configmaps', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"metadata": '})
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400})
    const {code, body} = await failure(api.core.createNamespacedConfigMap({namespace: 'default', body: {kind: 'Secret', apiVersion: 'v1', metadata: {name: 'k'}}}))
    expect(code).toBe(400)
    expect(body.reason).toBe('BadRequest')
  })

  it('validates that a StatefulSet selector matches its template', async () => {
    const sts = statefulSet('mismatch')
    sts.spec!.template.metadata!.labels = {app: 'other'}
    const body = await expectStatus(api.apps.createNamespacedStatefulSet({namespace: 'default', body: sts}), 422, 'Invalid',
      'StatefulSet.apps "mismatch" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`')
    expect(body.details).toMatchObject({group: 'apps', kind: 'StatefulSet'})
  })

  it('folds a Secret\'s stringData into base64 data', async () => {
    const secret = await api.core.createNamespacedSecret({namespace: 'default', body: {metadata: {name: 'auth'}, stringData: {password: 'hunter2'}}})
    expect(secret.data).toEqual({password: Buffer.from('hunter2').toString('base64')})
    expect(secret.stringData).toBeUndefined()
    expect(secret.type).toBe('Opaque')
  })
})

describe('update and concurrency', () => {
  it('rejects an update carrying a stale resourceVersion with the real Conflict message', async () => {
    const created = await api.apps.createNamespacedStatefulSet({namespace: 'default', body: statefulSet('stale')})
    await api.apps.replaceNamespacedStatefulSet({namespace: 'default', name: 'stale', body: {...created, spec: {...created.spec!, replicas: 2}}})
    const body = await expectStatus(api.apps.replaceNamespacedStatefulSet({namespace: 'default', name: 'stale', body: {...created, spec: {...created.spec!, replicas: 3}}}),
      409, 'Conflict', 'Operation cannot be fulfilled on statefulsets.apps "stale": the object has been modified; please apply your changes to the latest version and try again')
    expect(body.details).toEqual({name: 'stale', group: 'apps', kind: 'statefulsets'})
  })

  it('rejects a merge patch that names a stale resourceVersion', async () => {
    const cm = await api.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: 'patched'}}})
    await api.core.patchNamespacedConfigMap({namespace: 'default', name: 'patched', body: {data: {a: '1'}}}, mergePatch)
    await expectStatus(api.core.patchNamespacedConfigMap({namespace: 'default', name: 'patched', body: {metadata: {resourceVersion: cm.metadata!.resourceVersion}, data: {a: '2'}}}, mergePatch),
      409, 'Conflict', 'Operation cannot be fulfilled on configmaps "patched": the object has been modified; please apply your changes to the latest version and try again')
  })

  it('gives every write a new, larger resourceVersion from one counter, and lists at the latest', async () => {
    const a = await api.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: 'rv-a'}}})
    const b = await api.core.createNamespacedSecret({namespace: 'default', body: {metadata: {name: 'rv-b'}}})
    expect(Number(b.metadata!.resourceVersion)).toBeGreaterThan(Number(a.metadata!.resourceVersion))
    const list = await api.core.listNamespacedConfigMap({namespace: 'default'})
    expect(Number(list.metadata!.resourceVersion)).toBeGreaterThanOrEqual(Number(b.metadata!.resourceVersion))
  })

  it('leaves the resourceVersion alone when an update changes nothing', async () => {
    const cm = await api.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: 'noop'}, data: {a: '1'}}})
    const again = await api.core.replaceNamespacedConfigMap({namespace: 'default', name: 'noop', body: cm})
    expect(again.metadata!.resourceVersion).toBe(cm.metadata!.resourceVersion)
  })

  it('bumps generation on spec changes only, not on labels or status', async () => {
    const sts = await api.apps.createNamespacedStatefulSet({namespace: 'default', body: statefulSet('gen')})
    expect(sts.metadata!.generation).toBe(1)
    const labelled = await api.apps.patchNamespacedStatefulSet({namespace: 'default', name: 'gen', body: {metadata: {labels: {tier: 'cache'}}}}, mergePatch)
    expect(labelled.metadata!.generation).toBe(1)
    const status = await api.apps.patchNamespacedStatefulSetStatus({namespace: 'default', name: 'gen', body: {status: {replicas: 1, observedGeneration: 1}}}, mergePatch)
    expect(status.metadata!.generation).toBe(1)
    const scaled = await api.apps.patchNamespacedStatefulSet({namespace: 'default', name: 'gen', body: {spec: {replicas: 4}}}, mergePatch)
    expect(scaled.metadata!.generation).toBe(2)
  })

  it('keeps status out of main-resource writes and spec out of status writes', async () => {
    await api.apps.createNamespacedStatefulSet({namespace: 'default', body: statefulSet('split')})
    const viaMain = await api.apps.patchNamespacedStatefulSet({namespace: 'default', name: 'split', body: {status: {replicas: 9}}}, mergePatch)
    expect(viaMain.status!.replicas).toBe(0)
    const viaStatus = await api.apps.patchNamespacedStatefulSetStatus({namespace: 'default', name: 'split', body: {spec: {replicas: 7}, status: {replicas: 1}}}, mergePatch)
    expect(viaStatus.spec!.replicas).toBe(1)
    expect(viaStatus.status!.replicas).toBe(1)
  })

  it('refuses to change a pod\'s container command but allows a new image and labels', async () => {
    await api.core.createNamespacedPod({namespace: 'default', body: podManifest('immutable')})
    const body = await expectStatus(api.core.patchNamespacedPod({namespace: 'default', name: 'immutable', body: {spec: {containers: [{name: 'redis', command: ['sh']}]}}},
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)), 422, 'Invalid', expect.stringContaining('Pod "immutable" is invalid: spec: Forbidden: pod updates may not change fields other than') as unknown as string)
    expect(body.details).toMatchObject({causes: [{reason: 'FieldValueForbidden', field: 'spec'}]})
    const pod = await api.core.patchNamespacedPod({namespace: 'default', name: 'immutable', body: {metadata: {labels: {a: 'b'}}, spec: {containers: [{name: 'redis', image: 'redis:7.2'}]}}},
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch))
    expect(pod.spec!.containers[0]).toMatchObject({image: 'redis:7.2', command: ['redis-server']})
    expect(pod.metadata!.labels).toEqual({a: 'b'})
  })

  it('keeps a ControllerRevision\'s data immutable while its revision number may change', async () => {
    const body = {metadata: {name: 'redis-abc'}, data: {spec: {template: {$patch: 'replace'}}}, revision: 1}
    await api.apps.createNamespacedControllerRevision({namespace: 'default', body})
    const renumbered = await api.apps.patchNamespacedControllerRevision({namespace: 'default', name: 'redis-abc', body: {revision: 3}}, mergePatch)
    expect(renumbered.revision).toBe(3)
    await expectStatus(
      api.apps.patchNamespacedControllerRevision({namespace: 'default', name: 'redis-abc', body: {data: {spec: {template: null}}}}, mergePatch),
      422, 'Invalid', 'ControllerRevision.apps "redis-abc" is invalid: data: Invalid value: {"spec":{}}: field is immutable',
    )
  })

  it('gives a claim that names no StorageClass the default class, and leaves an explicit empty class alone', async () => {
    const storage = api.kc.makeApiClient(StorageV1Api)
    await storage.createStorageClass({body: {metadata: {name: 'fast', annotations: {'storageclass.kubernetes.io/is-default-class': 'true'}}, provisioner: 'example.com/fast'}})
    const claim = (name: string, storageClassName?: string) =>
      api.core.createNamespacedPersistentVolumeClaim({namespace: 'default', body: {metadata: {name}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}, storageClassName}}})
    expect((await claim('defaulted')).spec?.storageClassName).toBe('fast')
    expect((await claim('classless', '')).spec?.storageClassName).toBe('')
    expect(await storage.readStorageClass({name: 'fast'})).toMatchObject({reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate'})
  })

  it('refuses to change a StatefulSet\'s immutable fields', async () => {
    await api.apps.createNamespacedStatefulSet({namespace: 'default', body: statefulSet('fixed')})
    await expectStatus(api.apps.patchNamespacedStatefulSet({namespace: 'default', name: 'fixed', body: {spec: {serviceName: 'other'}}}, mergePatch), 422, 'Invalid',
      "StatefulSet.apps \"fixed\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
  })
})

describe('lists and selectors', () => {
  beforeAll(async () => {
    await api.core.createNamespace({body: {metadata: {name: 'sel'}}})
    const pods: Array<[string, Record<string, string>]> = [['a', {app: 'redis', role: 'master'}], ['b', {app: 'redis', role: 'replica'}], ['c', {app: 'web'}], ['d', {}]]
    for (const [name, labels] of pods) await api.core.createNamespacedPod({namespace: 'sel', body: podManifest(name, labels)})
    await api.core.createNamespacedPodBinding({namespace: 'sel', name: 'a', body: {metadata: {name: 'a'}, target: {kind: 'Node', name: 'node-1'}}})
  })

  const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
    (await api.core.listNamespacedPod({namespace: 'sel', labelSelector, fieldSelector})).items.map((p) => p.metadata!.name!)

  it.each([
    ['app=redis', ['a', 'b']],
    ['app==redis,role!=master', ['b']],
    ['role!=master', ['b', 'c', 'd']],
    ['app in (redis, web)', ['a', 'b', 'c']],
    ['app notin (redis),app', ['c']],
    ['role', ['a', 'b']],
    ['!role', ['c', 'd']],
    ['', ['a', 'b', 'c', 'd']],
  ])('selects pods by label selector %j', async (selector, expected) => {
    expect(await names(selector)).toEqual(expected)
  })

  it('selects pods by node and phase with field selectors, empty meaning unset', async () => {
    expect(await names(undefined, 'spec.nodeName=node-1')).toEqual(['a'])
    expect(await names(undefined, 'spec.nodeName=')).toEqual(['b', 'c', 'd'])
    expect(await names(undefined, 'status.phase!=Running,metadata.name==c')).toEqual(['c'])
  })

  it('refuses a field the resource cannot select on', async () => {
    await expectStatus(api.core.listNamespacedPod({namespace: 'sel', fieldSelector: 'spec.hostname=x'}), 400, 'BadRequest', 'field label not supported: spec.hostname')
  })

  it('refuses a malformed label selector', async () => {
    const {code, body} = await failure(api.core.listNamespacedPod({namespace: 'sel', labelSelector: 'app in (a'}))
    expect(code).toBe(400)
    expect(body.reason).toBe('BadRequest')
  })

  it('lists across all namespaces', async () => {
    const all = await api.core.listPodForAllNamespaces({labelSelector: 'app=redis'})
    expect(all.items.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`)).toEqual(['sel/a', 'sel/b'])
  })
})

describe('subresources', () => {
  it('binds a pod to a node once, as the scheduler does', async () => {
    await api.core.createNamespacedPod({namespace: 'default', body: podManifest('bound')})
    await api.core.createNamespacedPodBinding({namespace: 'default', name: 'bound', body: {metadata: {name: 'bound'}, target: {kind: 'Node', name: 'node-2'}}})
    const pod: V1Pod = await api.core.readNamespacedPod({namespace: 'default', name: 'bound'})
    expect(pod.spec!.nodeName).toBe('node-2')
    expect(pod.status!.conditions).toContainEqual(expect.objectContaining({type: 'PodScheduled', status: 'True'}))
    await expectStatus(api.core.createNamespacedPodBinding({namespace: 'default', name: 'bound', body: {metadata: {name: 'bound'}, target: {kind: 'Node', name: 'node-3'}}}),
      409, 'Conflict', 'Operation cannot be fulfilled on pods/binding "bound": pod bound is already assigned to node "node-2"')
  })

  it('reads and writes a StatefulSet\'s replicas through the scale subresource', async () => {
    await api.apps.createNamespacedStatefulSet({namespace: 'default', body: statefulSet('scaled', 3)})
    const scale = await api.apps.readNamespacedStatefulSetScale({namespace: 'default', name: 'scaled'})
    expect(scale).toMatchObject({kind: 'Scale', apiVersion: 'autoscaling/v1', spec: {replicas: 3}, status: {replicas: 0, selector: 'app=scaled'}})
    await api.apps.patchNamespacedStatefulSetScale({namespace: 'default', name: 'scaled', body: {spec: {replicas: 5}}}, mergePatch)
    const sts = await api.apps.readNamespacedStatefulSet({namespace: 'default', name: 'scaled'})
    expect(sts.spec!.replicas).toBe(5)
    expect(sts.metadata!.generation).toBe(2)
  })
})

describe('server lifecycle', () => {
  it('answers /version as soon as start resolves', async () => {
    const server = await startApiServer()
    try {
      const res = await rawFetch(server, '/version')
      expect(await res.json()).toMatchObject({major: '1', minor: '32'})
    } finally {
      await server.close()
    }
  })

  it('fails with a typed error when the port is taken', async () => {
    await expect(startApiServer({port: api.server.port})).rejects.toThrow(PreconditionError)
    await expect(startApiServer({port: api.server.port})).rejects.toThrow(`127.0.0.1:${api.server.port} is already in use`)
  })
})

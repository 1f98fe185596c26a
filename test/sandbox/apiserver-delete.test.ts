import {PatchStrategy, setHeaderOptions, type V1Namespace, type V1Pod} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type ApiFixture, expectStatus, podManifest, startApiFixture} from './apiserver-fixture.js'

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

let api: ApiFixture
beforeAll(async () => {
  api = await startApiFixture()
})
afterAll(async () => api?.stop())

const exists = async (read: () => Promise<unknown>): Promise<boolean> => read().then(() => true, () => false)

async function boundPod(namespace: string, name: string): Promise<V1Pod> {
  await api.core.createNamespacedPod({namespace, body: podManifest(name)})
  await api.core.createNamespacedPodBinding({namespace, name, body: {metadata: {name}, target: {kind: 'Node', name: 'node-1'}}})
  return api.core.readNamespacedPod({namespace, name})
}

describe('pod deletion', () => {
  it('only marks a pod bound to a node, for its kubelet to finish with grace period 0', async () => {
    await boundPod('default', 'graceful')
    const marked = await api.core.deleteNamespacedPod({namespace: 'default', name: 'graceful'})
    expect(marked.metadata!.deletionTimestamp).toBeInstanceOf(Date)
    expect(marked.metadata!.deletionGracePeriodSeconds).toBe(30)
    expect(await exists(() => api.core.readNamespacedPod({namespace: 'default', name: 'graceful'}))).toBe(true)
    await api.core.deleteNamespacedPod({namespace: 'default', name: 'graceful', gracePeriodSeconds: 0})
    expect(await exists(() => api.core.readNamespacedPod({namespace: 'default', name: 'graceful'}))).toBe(false)
  })

  it('removes an unbound pod at once', async () => {
    await api.core.createNamespacedPod({namespace: 'default', body: podManifest('unbound')})
    await api.core.deleteNamespacedPod({namespace: 'default', name: 'unbound'})
    await expectStatus(api.core.readNamespacedPod({namespace: 'default', name: 'unbound'}), 404, 'NotFound', 'pods "unbound" not found')
  })

  it('honours a shorter grace period on a second delete and ignores a longer one', async () => {
    await boundPod('default', 'shorter')
    await api.core.deleteNamespacedPod({namespace: 'default', name: 'shorter', gracePeriodSeconds: 10})
    const longer = await api.core.deleteNamespacedPod({namespace: 'default', name: 'shorter', gracePeriodSeconds: 60})
    expect(longer.metadata!.deletionGracePeriodSeconds).toBe(10)
    const shorter = await api.core.deleteNamespacedPod({namespace: 'default', name: 'shorter', gracePeriodSeconds: 2})
    expect(shorter.metadata!.deletionGracePeriodSeconds).toBe(2)
  })

  it('removes a bound pod that already failed at once', async () => {
    await boundPod('default', 'failed')
    await api.core.patchNamespacedPodStatus({namespace: 'default', name: 'failed', body: {status: {phase: 'Failed'}}}, mergePatch)
    await api.core.deleteNamespacedPod({namespace: 'default', name: 'failed'})
    expect(await exists(() => api.core.readNamespacedPod({namespace: 'default', name: 'failed'}))).toBe(false)
  })
})

describe('finalizers', () => {
  it('keep an object until the last one is removed', async () => {
    await api.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: 'held', finalizers: ['example.com/hold']}}})
    await api.core.deleteNamespacedConfigMap({namespace: 'default', name: 'held'})
    const held = await api.core.readNamespacedConfigMap({namespace: 'default', name: 'held'})
    expect(held.metadata!.deletionTimestamp).toBeInstanceOf(Date)
    await api.core.patchNamespacedConfigMap({namespace: 'default', name: 'held', body: {metadata: {finalizers: null}}}, mergePatch)
    expect(await exists(() => api.core.readNamespacedConfigMap({namespace: 'default', name: 'held'}))).toBe(false)
  })

  it('cannot be added to an object being deleted', async () => {
    await api.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: 'closing', finalizers: ['a/b']}}})
    await api.core.deleteNamespacedConfigMap({namespace: 'default', name: 'closing'})
    const body = await expectStatus(api.core.patchNamespacedConfigMap({namespace: 'default', name: 'closing', body: {metadata: {finalizers: ['a/b', 'c/d']}}}, mergePatch),
      422, 'Invalid', 'ConfigMap "closing" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ["c/d"]')
    expect(body.details).toMatchObject({kind: 'ConfigMap'})
  })
})

describe('garbage collection', () => {
  async function ownedConfigMaps(namespace: string) {
    await api.core.createNamespace({body: {metadata: {name: namespace}}})
    const owner = await api.core.createNamespacedConfigMap({namespace, body: {metadata: {name: 'owner'}}})
    const ref = {apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true}
    await api.core.createNamespacedConfigMap({namespace, body: {metadata: {name: 'child', ownerReferences: [ref]}}})
    await api.core.createNamespacedConfigMap({namespace, body: {metadata: {name: 'grandchild', ownerReferences: [{...ref, name: 'child', uid: (await api.core.readNamespacedConfigMap({namespace, name: 'child'})).metadata!.uid!}]}}})
    return owner
  }

  const names = async (namespace: string): Promise<string[]> =>
    (await api.core.listNamespacedConfigMap({namespace})).items.map((c) => c.metadata!.name!)

  it('deletes dependents, and theirs, in the background', async () => {
    await ownedConfigMaps('gc-bg')
    await api.core.deleteNamespacedConfigMap({namespace: 'gc-bg', name: 'owner'})
    expect(await names('gc-bg')).toEqual([])
  })

  it('leaves dependents without their owner reference under Orphan', async () => {
    await ownedConfigMaps('gc-orphan')
    await api.core.deleteNamespacedConfigMap({namespace: 'gc-orphan', name: 'owner', propagationPolicy: 'Orphan'})
    expect(await names('gc-orphan')).toEqual(['child', 'grandchild'])
    expect((await api.core.readNamespacedConfigMap({namespace: 'gc-orphan', name: 'child'})).metadata!.ownerReferences).toBeUndefined()
  })

  it('removes the owner last under Foreground, waiting for a dependent held by a finalizer', async () => {
    await ownedConfigMaps('gc-fg')
    await api.core.patchNamespacedConfigMap({namespace: 'gc-fg', name: 'child', body: {metadata: {finalizers: ['example.com/hold']}}}, mergePatch)
    await api.core.deleteNamespacedConfigMap({namespace: 'gc-fg', name: 'owner', propagationPolicy: 'Foreground'})
    const owner = await api.core.readNamespacedConfigMap({namespace: 'gc-fg', name: 'owner'})
    expect(owner.metadata!.finalizers).toEqual(['foregroundDeletion'])
    expect(await names('gc-fg')).toEqual(['child', 'owner'])
    await api.core.patchNamespacedConfigMap({namespace: 'gc-fg', name: 'child', body: {metadata: {finalizers: null}}}, mergePatch)
    expect(await names('gc-fg')).toEqual([])
  })

  it('keeps a dependent that still has another owner, dropping only the deleted one', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'gc-two'}}})
    const [a, b] = await Promise.all(['a', 'b'].map((name) => api.core.createNamespacedConfigMap({namespace: 'gc-two', body: {metadata: {name}}})))
    const ref = (o: typeof a) => ({apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata!.name!, uid: o.metadata!.uid!})
    await api.core.createNamespacedConfigMap({namespace: 'gc-two', body: {metadata: {name: 'shared', ownerReferences: [ref(a), ref(b)]}}})
    await api.core.deleteNamespacedConfigMap({namespace: 'gc-two', name: 'a'})
    const shared = await api.core.readNamespacedConfigMap({namespace: 'gc-two', name: 'shared'})
    expect(shared.metadata!.ownerReferences!.map((r) => r.name)).toEqual(['b'])
  })

  it('deletes a StatefulSet\'s pods but keeps its claims, which it does not own', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'gc-sts'}}})
    const sts = await api.apps.createNamespacedStatefulSet({namespace: 'gc-sts', body: {
      metadata: {name: 'redis'},
      spec: {serviceName: 'redis', selector: {matchLabels: {app: 'redis'}}, template: {metadata: {labels: {app: 'redis'}}, spec: podManifest('x').spec}},
    }})
    const owner = {apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'redis', uid: sts.metadata!.uid!, controller: true, blockOwnerDeletion: true}
    await api.core.createNamespacedPod({namespace: 'gc-sts', body: {...podManifest('redis-0'), metadata: {name: 'redis-0', ownerReferences: [owner]}}})
    await api.core.createNamespacedPersistentVolumeClaim({namespace: 'gc-sts', body: {metadata: {name: 'data-redis-0'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}}})
    await api.apps.deleteNamespacedStatefulSet({namespace: 'gc-sts', name: 'redis'})
    expect((await api.core.listNamespacedPod({namespace: 'gc-sts'})).items).toEqual([])
    expect((await api.core.listNamespacedPersistentVolumeClaim({namespace: 'gc-sts'})).items.map((c) => c.metadata!.name)).toEqual(['data-redis-0'])
  })
})

describe('namespace deletion', () => {
  it('removes everything in the namespace, then the namespace', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'doomed'}}})
    await api.core.createNamespacedConfigMap({namespace: 'doomed', body: {metadata: {name: 'c'}}})
    await api.core.createNamespacedPod({namespace: 'doomed', body: podManifest('p')})
    await api.core.deleteNamespace({name: 'doomed'})
    await expectStatus(api.core.readNamespace({name: 'doomed'}), 404, 'NotFound', 'namespaces "doomed" not found')
    expect((await api.core.listNamespacedConfigMap({namespace: 'doomed'})).items).toEqual([])
  })

  it('stays Terminating while a bound pod waits for its kubelet, refusing new content', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'draining'}}})
    await boundPod('draining', 'p')
    const ns = await api.core.deleteNamespace({name: 'draining'}) as V1Namespace
    expect(ns.status!.phase).toBe('Terminating')
    await expectStatus(api.core.createNamespacedConfigMap({namespace: 'draining', body: {metadata: {name: 'late'}}}), 403, 'Forbidden',
      'configmaps "late" is forbidden: unable to create new content in namespace draining because it is being terminated')
    await api.core.deleteNamespacedPod({namespace: 'draining', name: 'p', gracePeriodSeconds: 0})
    expect(await exists(() => api.core.readNamespace({name: 'draining'}))).toBe(false)
  })
})

describe('delete preconditions and collections', () => {
  it('refuses a delete whose uid precondition does not match', async () => {
    await api.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: 'pre'}}})
    const body = await expectStatus(api.core.deleteNamespacedConfigMap({namespace: 'default', name: 'pre', body: {preconditions: {uid: 'not-it'}}}), 409, 'Conflict',
      expect.stringContaining('Precondition failed: UID in precondition: not-it') as unknown as string)
    expect(body.details).toMatchObject({name: 'pre', kind: 'configmaps'})
  })

  it('answers a finished delete of a non-pod with a Success Status', async () => {
    await api.core.createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: 'gone'}}})
    const res = await api.fetch(`/api/v1/namespaces/default/configmaps/gone`, {method: 'DELETE'})
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({kind: 'Status', status: 'Success', details: {name: 'gone', kind: 'configmaps'}})
  })

  it('deletes a collection by label selector', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'coll'}}})
    for (const [name, app] of [['a', 'x'], ['b', 'x'], ['c', 'y']]) await api.core.createNamespacedConfigMap({namespace: 'coll', body: {metadata: {name, labels: {app}}}})
    await api.core.deleteCollectionNamespacedConfigMap({namespace: 'coll', labelSelector: 'app=x'})
    expect((await api.core.listNamespacedConfigMap({namespace: 'coll'})).items.map((c) => c.metadata!.name)).toEqual(['c'])
  })
})

import {type CoreV1Api, type CoreV1Event, StorageV1Api, type V1Pod} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {kubectl} from './apiserver-fixture.js'
import {allReady, type ControlPlane, redisSet, startControlPlane, waitFor} from './controllers-support.js'

/**
 * Why a pod stays Pending, in the words of a real control plane: the PV controller's event on a claim of a
 * StorageClass that does not exist, the scheduler's PodScheduled condition and FailedScheduling event for unbound
 * claims and for requests no node can hold; and events read per involved object, as a client looking for the latest
 * Warning of a pod and of its claim reads them.
 */

let plane: ControlPlane
let core: CoreV1Api

beforeAll(async () => {
  plane = await startControlPlane()
  core = plane.core
})

afterAll(async () => {
  await plane?.stop()
})

/** Events of one object, by the field selectors a client uses; newest last. */
async function eventsOf(ns: string, kind: string, name: string, type?: string): Promise<CoreV1Event[]> {
  const fieldSelector = [`involvedObject.kind=${kind}`, `involvedObject.name=${name}`, ...(type ? [`type=${type}`] : [])].join(',')
  const list = await core.listNamespacedEvent({namespace: ns, fieldSelector})
  return list.items.sort((a, b) => new Date(a.lastTimestamp ?? 0).getTime() - new Date(b.lastTimestamp ?? 0).getTime())
}

const scheduled = (pod: V1Pod) => pod.status?.conditions?.find((c) => c.type === 'PodScheduled')

describe('a claim of a StorageClass that does not exist', () => {
  it('stays Pending with the PV controller warning, and its pod stays unschedulable with the scheduler message', async () => {
    const ns = await plane.namespace()
    await plane.apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 1, storageClass: 'nosuch'})})
    const warning = await waitFor('the claim warning', async () => (await eventsOf(ns, 'PersistentVolumeClaim', 'data-redis-0', 'Warning')).at(-1))
    expect(warning).toMatchObject({reason: 'ProvisioningFailed', message: 'storageclass.storage.k8s.io "nosuch" not found', source: {component: 'persistentvolume-controller'}})
    expect((await core.readNamespacedPersistentVolumeClaim({namespace: ns, name: 'data-redis-0'})).status?.phase).toBe('Pending')

    const message = '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.'
    const pod = await waitFor('the pod unschedulable', async () => {
      const p = await core.readNamespacedPod({namespace: ns, name: 'redis-0'})
      return scheduled(p)?.status === 'False' ? p : undefined
    })
    expect(scheduled(pod)).toMatchObject({reason: 'Unschedulable', message})
    expect(pod.status?.phase).toBe('Pending')
    expect(pod.spec?.nodeName).toBeUndefined()
    const podWarning = await waitFor('the FailedScheduling event', async () => (await eventsOf(ns, 'Pod', 'redis-0', 'Warning')).at(-1))
    expect(podWarning).toMatchObject({reason: 'FailedScheduling', message, source: {component: 'default-scheduler'}})
  })

  it('is provisioned, and its pod scheduled and started, once that StorageClass is created', async () => {
    const ns = await plane.namespace()
    await plane.apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 1, storageClass: `late-${ns}`})})
    await waitFor('the claim warning', async () => (await eventsOf(ns, 'PersistentVolumeClaim', 'data-redis-0', 'Warning')).length > 0)
    const storage = plane.kc.makeApiClient(StorageV1Api)
    await storage.createStorageClass({body: {metadata: {name: `late-${ns}`}, provisioner: 'redisctl.io/sandbox-hostpath'}})
    await allReady(plane, ns, 1)
    const pod = await core.readNamespacedPod({namespace: ns, name: 'redis-0'})
    expect(scheduled(pod)?.status).toBe('True')
  })
})

describe('storage classes', () => {
  it('has a default class standard that claims without a class get, shown by kubectl as the default', async () => {
    const ns = await plane.namespace()
    const claim = await core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: {metadata: {name: 'plain'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}},
    })
    expect(claim.spec?.storageClassName).toBe('standard')
    const {stdout} = await kubectl(plane, ['get', 'storageclass', 'standard', '--no-headers'])
    expect(stdout.trim().split(/\s{2,}/).slice(0, 5)).toEqual(['standard (default)', 'redisctl.io/sandbox-hostpath', 'Delete', 'Immediate', 'false'])
  })
})

describe('a pod that requests more than any node has', () => {
  it('stays Pending with Insufficient memory in its PodScheduled condition and FailedScheduling event', async () => {
    const ns = await plane.namespace()
    const set = redisSet({replicas: 1})
    set.spec!.template.spec!.containers[0].resources = {requests: {memory: '64Gi'}}
    await plane.apps.createNamespacedStatefulSet({namespace: ns, body: set})
    const message = '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.'
    const pod = await waitFor('the pod unschedulable', async () => {
      const p = await core.readNamespacedPod({namespace: ns, name: 'redis-0'}).catch(() => undefined)
      return p && scheduled(p)?.status === 'False' ? p : undefined
    })
    expect(scheduled(pod)).toMatchObject({reason: 'Unschedulable', message})
    expect((await waitFor('the event', async () => (await eventsOf(ns, 'Pod', 'redis-0', 'Warning')).at(-1)))?.message).toBe(message)
  })
})

describe('events of one object', () => {
  it('are listed by involvedObject name, kind and uid, through client-node and kubectl', async () => {
    const ns = await plane.namespace()
    await plane.apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 1, storageClass: 'nosuch'})})
    const claim = await waitFor('the claim', async () => core.readNamespacedPersistentVolumeClaim({namespace: ns, name: 'data-redis-0'}))
    await waitFor('the claim warning', async () => (await eventsOf(ns, 'PersistentVolumeClaim', 'data-redis-0', 'Warning')).length > 0)
    await waitFor('the pod warning', async () => (await eventsOf(ns, 'Pod', 'redis-0', 'Warning')).length > 0)

    const byUid = await core.listNamespacedEvent({namespace: ns, fieldSelector: `involvedObject.uid=${claim.metadata?.uid}`})
    expect(byUid.items.map((e) => e.reason)).toEqual(['ProvisioningFailed'])
    const ofPod = await eventsOf(ns, 'Pod', 'redis-0')
    expect(ofPod.every((e) => e.involvedObject.kind === 'Pod' && e.involvedObject.name === 'redis-0')).toBe(true)

    const {stdout} = await kubectl(plane, ['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.kind=PersistentVolumeClaim,involvedObject.name=data-redis-0,type=Warning', '--no-headers'])
    expect(stdout.trim().split('\n')).toHaveLength(1)
    expect(stdout).toContain('persistentvolumeclaim/data-redis-0')
    expect(stdout).toContain('storageclass.storage.k8s.io "nosuch" not found')
  })
})

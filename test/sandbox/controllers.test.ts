import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {type AppsV1Api, type CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {KubeUnreachableError} from '../../src/errors.js'
import {startControllers} from '../../src/sandbox/controllers/index.js'
import {allReady, type ControlPlane, type KubeletStandIn, podNames, redisSet, startControlPlane, waitFor} from './controllers-support.js'

/**
 * The control loops against the real sandbox API server over HTTP with client-node, with a stand-in for the
 * kubelet (see controllers-support.ts). Each test works in a namespace of its own.
 */

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

let plane: ControlPlane
let core: CoreV1Api
let apps: AppsV1Api
let kubelet: KubeletStandIn

beforeAll(async () => {
  plane = await startControlPlane()
  ;({core, apps, kubelet} = plane)
})

afterAll(async () => {
  await plane?.stop()
})

const namespace = (): Promise<string> => plane.namespace()

async function claimNames(ns: string): Promise<string[]> {
  const claims = await core.listNamespacedPersistentVolumeClaim({namespace: ns})
  return claims.items.map((c) => c.metadata!.name!).sort()
}

async function scale(ns: string, replicas: number): Promise<void> {
  await apps.patchNamespacedStatefulSetScale({namespace: ns, name: 'redis', body: {spec: {replicas}}}, mergePatch)
}

describe('StatefulSet controller', () => {
  it('creates OrderedReady pods <set>-0..n-1, each only after its predecessor is Ready', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 3})})
    await allReady(plane, ns, 3)
    const pods = (await core.listNamespacedPod({namespace: ns})).items.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!))
    expect(pods.map((p) => p.metadata?.name)).toEqual(['redis-0', 'redis-1', 'redis-2'])
    for (let i = 1; i < pods.length; i++) {
      const created = kubelet.firstSeen.get(pods[i].metadata!.uid!)!
      const predecessorReady = kubelet.readyRequested.get(pods[i - 1].metadata!.uid!)!
      expect(created).toBeGreaterThanOrEqual(predecessorReady)
    }
  })

  it('creates all Parallel pods without waiting for any to be Ready', async () => {
    const ns = await namespace()
    kubelet.keepUnready.add(ns)
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 3, parallel: true})})
    await waitFor('3 pods', async () => (await podNames(plane, ns)).length === 3)
    const set = await waitFor('status with 3 replicas', async () => {
      const s = await apps.readNamespacedStatefulSet({namespace: ns, name: 'redis'})
      return s.status?.replicas === 3 ? s : undefined
    })
    expect(set.status?.readyReplicas ?? 0).toBe(0)
  })

  it('brings a 6-pod Parallel StatefulSet to all Ready, spread 2 per node over 3 zones', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 6, parallel: true})})
    await allReady(plane, ns, 6)
    const pods = (await core.listNamespacedPod({namespace: ns})).items
    const perNode = new Map<string, number>()
    for (const p of pods) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1)
    expect(Object.fromEntries(perNode)).toEqual({'node-a': 2, 'node-b': 2, 'node-c': 2})
  })

  it('keeps the status counts and revisions true', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2, parallel: true})})
    const set = await allReady(plane, ns, 2)
    expect(set.status).toMatchObject({replicas: 2, readyReplicas: 2, availableReplicas: 2, currentReplicas: 2, updatedReplicas: 2})
    expect(set.status?.currentRevision).toBe(set.status?.updateRevision)
    const pod = await core.readNamespacedPod({namespace: ns, name: 'redis-0'})
    expect(pod.metadata?.labels?.['controller-revision-hash']).toBe(set.status?.updateRevision)
  })

  it('scales up, then scales down removing the highest ordinals and keeping their claims', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2})})
    await allReady(plane, ns, 2)
    await scale(ns, 4)
    await allReady(plane, ns, 4)
    expect(await podNames(plane, ns)).toEqual(['redis-0', 'redis-1', 'redis-2', 'redis-3'])
    await scale(ns, 1)
    await allReady(plane, ns, 1)
    expect(await podNames(plane, ns)).toEqual(['redis-0'])
    expect(await claimNames(ns)).toEqual(['data-redis-0', 'data-redis-1', 'data-redis-2', 'data-redis-3'])
  })

  it('gives each ordinal its own claim, bound to a provisioned hostPath volume', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2, parallel: true})})
    await allReady(plane, ns, 2)
    const pod = await core.readNamespacedPod({namespace: ns, name: 'redis-1'})
    expect(pod.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe('data-redis-1')
    const claim = await core.readNamespacedPersistentVolumeClaim({namespace: ns, name: 'data-redis-1'})
    expect(claim.status?.phase).toBe('Bound')
    expect(claim.metadata?.labels).toEqual({app: 'redis'})
    const volume = await core.readPersistentVolume({name: claim.spec!.volumeName!})
    expect(volume.status?.phase).toBe('Bound')
    expect(volume.spec).toMatchObject({
      capacity: {storage: '1Gi'},
      storageClassName: 'standard',
      persistentVolumeReclaimPolicy: 'Delete',
      claimRef: {namespace: ns, name: 'data-redis-1', uid: claim.metadata?.uid},
    })
    expect(existsSync(volume.spec!.hostPath!.path)).toBe(true)
  })

  it('keeps the claims when the StatefulSet is deleted', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2, parallel: true})})
    await allReady(plane, ns, 2)
    await apps.deleteNamespacedStatefulSet({namespace: ns, name: 'redis'})
    await waitFor('pods gone', async () => (await podNames(plane, ns)).length === 0)
    expect(await claimNames(ns)).toEqual(['data-redis-0', 'data-redis-1'])
  })

  it('removes claims and their volumes under retention policy Delete, on scale-down and on deletion', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 3, parallel: true, retention: 'Delete'})})
    await allReady(plane, ns, 3)
    const claim2 = await core.readNamespacedPersistentVolumeClaim({namespace: ns, name: 'data-redis-2'})
    const volume2 = await core.readPersistentVolume({name: claim2.spec!.volumeName!})
    await scale(ns, 2)
    await waitFor('claim of the removed pod gone', async () => !(await claimNames(ns)).includes('data-redis-2'))
    expect(await claimNames(ns)).toEqual(['data-redis-0', 'data-redis-1'])
    await waitFor('its volume gone', async () => (await core.listPersistentVolume()).items.every((v) => v.metadata?.name !== volume2.metadata?.name))
    expect(existsSync(volume2.spec!.hostPath!.path)).toBe(false)
    await apps.deleteNamespacedStatefulSet({namespace: ns, name: 'redis'})
    await waitFor('all claims gone', async () => (await claimNames(ns)).length === 0)
  })

  it('recreates a deleted pod with the same name and the same claim', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2, parallel: true})})
    await allReady(plane, ns, 2)
    const before = await core.readNamespacedPod({namespace: ns, name: 'redis-1'})
    await core.deleteNamespacedPod({namespace: ns, name: 'redis-1'})
    const after = await waitFor('a new redis-1', async () => {
      const p = await core.readNamespacedPod({namespace: ns, name: 'redis-1'})
      return p.metadata?.uid !== before.metadata?.uid ? p : undefined
    })
    expect(after.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe('data-redis-1')
    await allReady(plane, ns, 2)
    expect(await claimNames(ns)).toEqual(['data-redis-0', 'data-redis-1'])
  })

  it('replaces a Failed pod', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 1})})
    await allReady(plane, ns, 1)
    const before = await core.readNamespacedPod({namespace: ns, name: 'redis-0'})
    await core.patchNamespacedPodStatus({namespace: ns, name: 'redis-0', body: {status: {phase: 'Failed'}}}, mergePatch)
    await waitFor('a new redis-0', async () => {
      const p = await core.readNamespacedPod({namespace: ns, name: 'redis-0'}).catch(() => undefined)
      return p !== undefined && p.metadata?.uid !== before.metadata?.uid
    })
    await allReady(plane, ns, 1)
  })

  it('rolls a template change from the highest ordinal down, then makes the new revision current', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 3, parallel: true})})
    const before = await allReady(plane, ns, 3)
    await apps.patchNamespacedStatefulSet(
      {namespace: ns, name: 'redis', body: {spec: {template: {metadata: {labels: {app: 'redis', rollout: 'two'}}}}}},
      mergePatch,
    )
    const after = await waitFor('rollout complete', async () => {
      const set = await apps.readNamespacedStatefulSet({namespace: ns, name: 'redis'})
      const s = set.status
      return s?.updateRevision !== before.status?.updateRevision && s?.currentRevision === s?.updateRevision && s?.readyReplicas === 3 ? set : undefined
    })
    const pods = (await core.listNamespacedPod({namespace: ns})).items
    expect(pods.every((p) => p.metadata?.labels?.['controller-revision-hash'] === after.status?.updateRevision)).toBe(true)
    const order = pods.map((p) => ({name: p.metadata!.name!, seen: kubelet.firstSeen.get(p.metadata!.uid!)!})).sort((a, b) => a.seen - b.seen)
    expect(order.map((p) => p.name)).toEqual(['redis-2', 'redis-1', 'redis-0'])
  })

  it('records SuccessfulCreate and SuccessfulDelete events with the real messages', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2})})
    await allReady(plane, ns, 2)
    await scale(ns, 1)
    await allReady(plane, ns, 1)
    const messages = await waitFor('events', async () => {
      const events = (await core.listNamespacedEvent({namespace: ns})).items.filter((e) => e.involvedObject.kind === 'StatefulSet')
      const texts = events.map((e) => `${e.type} ${e.reason}: ${e.message}`)
      return texts.length >= 5 ? texts : undefined
    })
    expect(messages).toEqual(
      expect.arrayContaining([
        'Normal SuccessfulCreate: create Claim data-redis-0 Pod redis-0 in StatefulSet redis success',
        'Normal SuccessfulCreate: create Pod redis-0 in StatefulSet redis successful',
        'Normal SuccessfulCreate: create Pod redis-1 in StatefulSet redis successful',
        'Normal SuccessfulDelete: delete Pod redis-1 in StatefulSet redis successful',
      ]),
    )
  })

  it('shows its work to kubectl', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2, parallel: true})})
    await allReady(plane, ns, 2)
    const {stdout} = await promisify(execFile)('kubectl', ['--kubeconfig', plane.kubeconfig, '-n', ns, 'get', 'sts,pods,pvc', '--no-headers'], {timeout: 15_000})
    const lines = stdout.trim().split('\n').map((line) => line.split(/\s+/))
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.arrayContaining(['statefulset.apps/redis', '2/2']),
        expect.arrayContaining(['pod/redis-0', '1/1', 'Running']),
        expect.arrayContaining(['pod/redis-1', '1/1', 'Running']),
        expect.arrayContaining(['persistentvolumeclaim/data-redis-0', 'Bound']),
        expect.arrayContaining(['persistentvolumeclaim/data-redis-1', 'Bound']),
      ]),
    )
  })
})

describe('scheduler', () => {
  it('leaves a 4th pod with required hostname anti-affinity Pending, with the FailedScheduling reason', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 4, parallel: true, antiAffinity: true})})
    const message =
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    const stuck = await waitFor('an unschedulable pod', async () => {
      const pods = (await core.listNamespacedPod({namespace: ns})).items
      return pods.find((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'))
    })
    const condition = stuck.status?.conditions?.find((c) => c.type === 'PodScheduled')
    expect(condition).toMatchObject({status: 'False', reason: 'Unschedulable', message})
    expect(stuck.spec?.nodeName).toBeUndefined()
    expect(stuck.status?.phase ?? 'Pending').toBe('Pending')
    const event = await waitFor('the FailedScheduling event', async () =>
      (await core.listNamespacedEvent({namespace: ns})).items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === stuck.metadata?.name),
    )
    expect(event).toMatchObject({type: 'Warning', message})
    const placed = (await core.listNamespacedPod({namespace: ns})).items.filter((p) => p.spec?.nodeName).map((p) => p.spec!.nodeName).sort()
    expect(placed).toEqual(['node-a', 'node-b', 'node-c'])
  })

  it('schedules the waiting pod once a node frees up', async () => {
    const ns = await namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 4, parallel: true, antiAffinity: true})})
    await waitFor('3 ready', async () => (await apps.readNamespacedStatefulSet({namespace: ns, name: 'redis'})).status?.readyReplicas === 3)
    await scale(ns, 3)
    await allReady(plane, ns, 3)
    const placed = (await core.listNamespacedPod({namespace: ns})).items.map((p) => p.spec?.nodeName).sort()
    expect(placed).toEqual(['node-a', 'node-b', 'node-c'])
  })
})

describe('starting', () => {
  it('fails with KubeUnreachableError when nothing answers at the server address', async () => {
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{name: 'nowhere', server: 'http://127.0.0.1:1', skipTLSVerify: true}],
      users: [{name: 'nobody'}],
      contexts: [{name: 'nowhere', cluster: 'nowhere', user: 'nobody'}],
      currentContext: 'nowhere',
    })
    await expect(startControllers(kc, {volumeRoot: join(plane.dir, 'unused')})).rejects.toBeInstanceOf(KubeUnreachableError)
  })
})

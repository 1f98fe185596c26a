import {type AppsV1Api, type CoreV1Api, PatchStrategy, setHeaderOptions, type V1Pod, type V1StatefulSet} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {kubectl} from './apiserver-fixture.js'
import {allReady, type ControlPlane, redisSet, startControlPlane, waitFor} from './controllers-support.js'

/**
 * StatefulSet revisions and update strategies as a real control plane keeps them, seen through client-node and
 * kubectl: ControllerRevisions, the pods' controller-revision-hash, the status revisions and counts, OnDelete,
 * RollingUpdate with a partition, history pruning, and kubectl rollout status/history/undo.
 */

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
const REVISION = 'controller-revision-hash'

let plane: ControlPlane
let core: CoreV1Api
let apps: AppsV1Api

beforeAll(async () => {
  plane = await startControlPlane()
  ;({core, apps} = plane)
})

afterAll(async () => {
  await plane?.stop()
})

const readSet = (ns: string): Promise<V1StatefulSet> => apps.readNamespacedStatefulSet({namespace: ns, name: 'redis'})

async function pods(ns: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({namespace: ns})
  return list.items.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!))
}

async function revisionsOf(ns: string): Promise<Array<{name: string; revision: number}>> {
  const list = await apps.listNamespacedControllerRevision({namespace: ns})
  return list.items.map((r) => ({name: r.metadata!.name!, revision: r.revision})).sort((a, b) => a.revision - b.revision)
}

async function setImage(ns: string, image: string): Promise<V1StatefulSet> {
  return apps.patchNamespacedStatefulSet({namespace: ns, name: 'redis', body: {spec: {template: {spec: {containers: [{name: 'redis', image}]}}}}}, mergePatch)
}

/** Waits until the status has seen the latest generation, and returns the set. */
async function observed(ns: string, check: (set: V1StatefulSet) => boolean): Promise<V1StatefulSet> {
  return waitFor(`statefulset in ${ns} observed`, async () => {
    const set = await readSet(ns)
    return set.status?.observedGeneration === set.metadata?.generation && check(set) ? set : undefined
  })
}

const revisionLabels = async (ns: string): Promise<Record<string, string>> =>
  Object.fromEntries((await pods(ns)).map((p) => [p.metadata!.name!, p.metadata!.labels![REVISION]]))

describe('StatefulSet revisions', () => {
  it('keeps one ControllerRevision per template, named <set>-<hash>, which kubectl lists and every pod is labelled with', async () => {
    const ns = await plane.namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2, parallel: true})})
    const set = await allReady(plane, ns, 2)
    const [revision] = (await apps.listNamespacedControllerRevision({namespace: ns})).items
    const hash = revision.metadata?.labels?.['controller.kubernetes.io/hash']
    expect(revision.metadata?.name).toBe(`redis-${hash}`)
    expect(revision.revision).toBe(1)
    expect(revision.metadata?.ownerReferences).toEqual([expect.objectContaining({kind: 'StatefulSet', name: 'redis', controller: true})])
    expect(set.status).toMatchObject({currentRevision: revision.metadata?.name, updateRevision: revision.metadata?.name, collisionCount: 0})
    expect(await revisionLabels(ns)).toEqual({'redis-0': revision.metadata?.name, 'redis-1': revision.metadata?.name})
    const {stdout} = await kubectl(plane, ['-n', ns, 'get', 'controllerrevisions', '--no-headers'])
    expect(stdout.trim().split(/\s+/).slice(0, 3)).toEqual([revision.metadata?.name, 'statefulset.apps/redis', '1'])
  })

  it('under OnDelete, makes a new update revision on a template change and touches no pod', async () => {
    const ns = await plane.namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 3, parallel: true, updateStrategy: {type: 'OnDelete'}})})
    const before = await allReady(plane, ns, 3)
    const uids = (await pods(ns)).map((p) => p.metadata?.uid)
    await setImage(ns, 'redis:7.2')
    const after = await observed(ns, (s) => s.status?.updateRevision !== before.status?.updateRevision)
    expect(after.status?.updateRevision).not.toBe(before.status?.updateRevision)
    expect(after.status).toMatchObject({currentRevision: before.status?.currentRevision, currentReplicas: 3, updatedReplicas: 0})
    expect((await pods(ns)).map((p) => p.metadata?.uid)).toEqual(uids)
    expect(await revisionsOf(ns)).toEqual([
      {name: before.status?.updateRevision, revision: 1},
      {name: after.status?.updateRevision, revision: 2},
    ])
  })

  it('under OnDelete, brings a deleted pod back at the update revision, with its label and template', async () => {
    const ns = await plane.namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2, parallel: true, updateStrategy: {type: 'OnDelete'}})})
    const before = await allReady(plane, ns, 2)
    await setImage(ns, 'redis:7.2')
    const update = await observed(ns, (s) => s.status?.updateRevision !== before.status?.updateRevision)
    await core.deleteNamespacedPod({namespace: ns, name: 'redis-1'})
    const replaced = await waitFor('redis-1 back at the update revision', async () => {
      const pod = (await pods(ns)).find((p) => p.metadata?.name === 'redis-1')
      return pod?.metadata?.labels?.[REVISION] === update.status?.updateRevision ? pod : undefined
    })
    expect(replaced.spec?.containers[0].image).toBe('redis:7.2')
    expect(await revisionLabels(ns)).toEqual({'redis-0': before.status?.currentRevision, 'redis-1': update.status?.updateRevision})
    const set = await observed(ns, (s) => s.status?.updatedReplicas === 1 && s.status?.readyReplicas === 2)
    expect(set.status).toMatchObject({currentReplicas: 1, updatedReplicas: 1})
  })

  it('under OnDelete, keeps status.currentRevision even once every pod runs the update revision, as Kubernetes before 1.36 does', async () => {
    const ns = await plane.namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 1, updateStrategy: {type: 'OnDelete'}})})
    const before = await allReady(plane, ns, 1)
    await setImage(ns, 'redis:7.2')
    await observed(ns, (s) => s.status?.updateRevision !== before.status?.updateRevision)
    await core.deleteNamespacedPod({namespace: ns, name: 'redis-0'})
    const set = await observed(ns, (s) => s.status?.updatedReplicas === 1 && s.status?.readyReplicas === 1)
    expect(set.status?.currentRevision).toBe(before.status?.currentRevision)
    expect(set.status?.currentReplicas).toBe(0)
  })

  it('under RollingUpdate with a partition, replaces only the ordinals at or above it, from the highest down, one at a time', async () => {
    const ns = await plane.namespace()
    const strategy = (partition: number) => ({type: 'RollingUpdate', rollingUpdate: {partition}})
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 4, parallel: true, updateStrategy: strategy(2)})})
    const before = await allReady(plane, ns, 4)
    const old = before.status!.currentRevision!
    await setImage(ns, 'redis:7.2')
    const partial = await observed(ns, (s) => s.status?.updatedReplicas === 2 && s.status?.readyReplicas === 4)
    const update = partial.status!.updateRevision!
    expect(await revisionLabels(ns)).toEqual({'redis-0': old, 'redis-1': old, 'redis-2': update, 'redis-3': update})
    expect(partial.status).toMatchObject({currentRevision: old, currentReplicas: 2})

    await core.deleteNamespacedPod({namespace: ns, name: 'redis-1'})
    await waitFor('redis-1 recreated', async () => (await pods(ns)).some((p) => p.metadata?.name === 'redis-1' && !p.metadata.deletionTimestamp && p.status?.phase === 'Running'))
    expect((await revisionLabels(ns))['redis-1']).toBe(old)

    const rolled = (await pods(ns)).map((p) => p.metadata!.uid!)
    await apps.patchNamespacedStatefulSet({namespace: ns, name: 'redis', body: {spec: {updateStrategy: strategy(0)}}}, mergePatch)
    const done = await observed(ns, (s) => s.status?.currentRevision === update && s.status?.readyReplicas === 4)
    expect(done.status).toMatchObject({currentReplicas: 4, updatedReplicas: 4, updateRevision: update})
    const fresh = (await pods(ns)).filter((p) => !rolled.includes(p.metadata!.uid!))
    expect(fresh.map((p) => p.metadata?.name).sort()).toEqual(['redis-0', 'redis-1'])
    const [one, zero] = ['redis-1', 'redis-0'].map((name) => fresh.find((p) => p.metadata?.name === name)!.metadata!.uid!)
    expect(plane.kubelet.firstSeen.get(zero)!).toBeGreaterThanOrEqual(plane.kubelet.readyRequested.get(one)!)
  })

  it('prunes the revisions beyond revisionHistoryLimit, oldest first', async () => {
    const ns = await plane.namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 1, revisionHistoryLimit: 1})})
    const first = await allReady(plane, ns, 1)
    const names = [first.status!.updateRevision!]
    for (const image of ['redis:7.1', 'redis:7.2', 'redis:7.4']) {
      await setImage(ns, image)
      const set = await observed(ns, (s) => s.status?.currentRevision === s.status?.updateRevision && s.status?.updateRevision !== names.at(-1) && s.status?.readyReplicas === 1)
      names.push(set.status!.updateRevision!)
    }
    const left = await waitFor('history pruned', async () => {
      const revisions = await revisionsOf(ns)
      return revisions.length === 2 ? revisions : undefined
    })
    expect(left).toEqual([
      {name: names[2], revision: 3},
      {name: names[3], revision: 4},
    ])
  })

  it('refuses OnDelete while rollingUpdate is still set, as the API server validates it', async () => {
    const ns = await plane.namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 1})})
    const refused = await kubectl(plane, ['-n', ns, 'patch', 'sts', 'redis', '--type', 'merge', '-p', '{"spec":{"updateStrategy":{"type":"OnDelete"}}}'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("spec.updateStrategy.rollingUpdate: Invalid value: {\"partition\":0}: only allowed for updateStrategy 'RollingUpdate'")
    const switched = await kubectl(plane, ['-n', ns, 'patch', 'sts', 'redis', '--type', 'merge', '-p', '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}'])
    expect(switched.code).toBe(0)
    expect((await readSet(ns)).spec?.updateStrategy).toEqual({type: 'OnDelete'})
  })
})

describe('kubectl rollout on a StatefulSet', () => {
  it('rollout status waits for a rolling update and reports it complete', async () => {
    const ns = await plane.namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 3, parallel: true})})
    await allReady(plane, ns, 3)
    await setImage(ns, 'redis:7.2')
    const status = await kubectl(plane, ['-n', ns, 'rollout', 'status', 'statefulset/redis', '--timeout', '10s'])
    expect(status.code).toBe(0)
    expect(status.stdout.trim().split('\n').at(-1)).toBe('partitioned roll out complete: 3 new pods have been updated...')
  })

  it('rollout status says it only follows RollingUpdate for an OnDelete set', async () => {
    const ns = await plane.namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 1, updateStrategy: {type: 'OnDelete'}})})
    await allReady(plane, ns, 1)
    const status = await kubectl(plane, ['-n', ns, 'rollout', 'status', 'statefulset/redis', '--timeout', '10s'])
    expect(status.code).toBe(1)
    expect(status.stderr).toContain('rollout status is only available for RollingUpdate strategy type')
  })

  it('rollout history lists the revisions, and rollout undo puts the previous template back as the newest revision', async () => {
    const ns = await plane.namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2, parallel: true})})
    const first = await allReady(plane, ns, 2)
    await setImage(ns, 'redis:7.2')
    await observed(ns, (s) => s.status?.currentRevision === s.status?.updateRevision && s.status?.updateRevision !== first.status?.updateRevision && s.status?.readyReplicas === 2)

    const history = await kubectl(plane, ['-n', ns, 'rollout', 'history', 'statefulset/redis'])
    expect(history.code).toBe(0)
    expect(history.stdout.split('\n').map((line) => line.trim().split(/\s+/).join(' '))).toEqual(expect.arrayContaining(['REVISION CHANGE-CAUSE', '1 <none>', '2 <none>']))
    const second = await kubectl(plane, ['-n', ns, 'rollout', 'history', 'statefulset/redis', '--revision', '2'])
    expect(second.stdout).toContain('Image:\tredis:7.2')

    const undo = await kubectl(plane, ['-n', ns, 'rollout', 'undo', 'statefulset/redis'])
    expect(undo.code).toBe(0)
    expect(undo.stdout.trim()).toBe('statefulset.apps/redis rolled back')
    const back = await observed(ns, (s) => s.status?.updateRevision === first.status?.updateRevision && s.status?.currentRevision === s.status?.updateRevision && s.status?.readyReplicas === 2)
    expect(back.spec?.template.spec?.containers[0].image).toBe('redis:7.0')
    expect(await revisionLabels(ns)).toEqual({'redis-0': first.status?.updateRevision, 'redis-1': first.status?.updateRevision})
    expect((await revisionsOf(ns)).map((r) => r.revision)).toEqual([2, 3])
    expect((await revisionsOf(ns)).find((r) => r.revision === 3)?.name).toBe(first.status?.updateRevision)
  })

  it('rollout restart rolls every pod onto a new revision, and rollout undo --to-revision goes back to a named one', async () => {
    const ns = await plane.namespace()
    await apps.createNamespacedStatefulSet({namespace: ns, body: redisSet({replicas: 2, parallel: true})})
    const first = await allReady(plane, ns, 2)
    const restart = await kubectl(plane, ['-n', ns, 'rollout', 'restart', 'statefulset/redis'])
    expect(restart.code, restart.stderr).toBe(0)
    const restarted = await observed(ns, (s) => s.status?.updateRevision !== first.status?.updateRevision && s.status?.currentRevision === s.status?.updateRevision && s.status?.readyReplicas === 2)
    expect(restarted.spec?.template.metadata?.annotations).toHaveProperty(['kubectl.kubernetes.io/restartedAt'])
    expect(Object.values(await revisionLabels(ns))).toEqual([restarted.status?.updateRevision, restarted.status?.updateRevision])

    const undo = await kubectl(plane, ['-n', ns, 'rollout', 'undo', 'statefulset/redis', '--to-revision', '1'])
    expect(undo.code, undo.stderr).toBe(0)
    const back = await observed(ns, (s) => s.status?.updateRevision === first.status?.updateRevision && s.status?.currentRevision === s.status?.updateRevision && s.status?.readyReplicas === 2)
    expect(back.spec?.template.metadata?.annotations ?? {}).not.toHaveProperty(['kubectl.kubernetes.io/restartedAt'])
  })
})

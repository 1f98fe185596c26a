import type {V1PersistentVolumeClaim, V1Pod, V1StatefulSet} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {claimOwners, newClaims, newPod, ordinalOf, type Revision} from '../../src/sandbox/controllers/statefulset-identity.js'
import {planStatefulSet, type StatefulSetAction, statusMatches} from '../../src/sandbox/controllers/statefulset-plan.js'
import {asRevision, newRevision} from '../../src/sandbox/controllers/statefulset-revisions.js'

const NOW = Date.parse('2026-11-23T10:00:00Z')

function statefulSet(overrides: Partial<NonNullable<V1StatefulSet['spec']>> = {}, status: V1StatefulSet['status'] = undefined): V1StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {name: 'redis', namespace: 'db', uid: 'set-uid', generation: 3},
    spec: {
      replicas: 3,
      serviceName: 'redis-headless',
      selector: {matchLabels: {app: 'redis'}},
      template: {metadata: {labels: {app: 'redis'}}, spec: {containers: [{name: 'redis', image: 'redis:7'}]}},
      volumeClaimTemplates: [{metadata: {name: 'data'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}}],
      updateStrategy: {type: 'RollingUpdate', rollingUpdate: {partition: 0}},
      ...overrides,
    },
    ...(status ? {status} : {}),
  }
}

/** The revision of the set's template, as the controller would have stored it. */
const updateOf = (set: V1StatefulSet): Revision => asRevision(newRevision(set, 1, 0))
const OLD: Revision = {name: 'redis-old', template: {metadata: {labels: {app: 'redis'}}, spec: {containers: [{name: 'redis', image: 'redis:6'}]}}}

type PodState = 'pending' | 'ready' | 'running' | 'failed' | 'terminating'

function pod(set: V1StatefulSet, ordinal: number, state: PodState = 'ready', revision = updateOf(set).name): V1Pod {
  const base = newPod(set, ordinal, revision === OLD.name ? OLD : updateOf(set))
  base.metadata!.uid = `pod-uid-${ordinal}`
  if (state === 'terminating') base.metadata!.deletionTimestamp = new Date(NOW)
  const phase = {pending: 'Pending', ready: 'Running', running: 'Running', failed: 'Failed', terminating: 'Running'}[state]
  const ready = state === 'ready' || state === 'terminating'
  base.status = {phase, conditions: [{type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date(NOW - 60_000)}]}
  return base
}

function claimsFor(set: V1StatefulSet, ...ordinals: number[]): Map<string, V1PersistentVolumeClaim> {
  return new Map(ordinals.flatMap((o) => newClaims(set, o)).map((c) => [c.metadata!.name!, c]))
}

function summary(actions: StatefulSetAction[]): string[] {
  return actions.map((a) => {
    switch (a.kind) {
      case 'createPod':
        return `create ${a.pod.metadata?.name}${a.claims.map((c) => ` +${c.metadata?.name}`).join('')}`
      case 'createClaims':
        return `claims ${a.claims.map((c) => c.metadata?.name).join(',')}`
      case 'deletePod':
        return `delete ${a.pod.metadata?.name} (${a.reason})`
      case 'setClaimOwners':
        return `own ${a.claim.metadata?.name} by ${a.ownerReferences.map((r) => `${r.kind}/${r.name}`).join(',') || 'nobody'}`
    }
  })
}

function plan(set: V1StatefulSet, pods: V1Pod[], claims = new Map<string, V1PersistentVolumeClaim>()) {
  const update = updateOf(set)
  const current = set.status?.currentRevision === OLD.name ? OLD : update
  return planStatefulSet({set, pods, claims, current, update, collisionCount: 0, now: NOW})
}

describe('StatefulSet pods and claims', () => {
  it('names pods <set>-<ordinal> and gives them the identity labels, hostname and subdomain', () => {
    const set = statefulSet()
    const p = newPod(set, 2, {name: 'redis-abc', template: set.spec!.template})
    expect(p.metadata?.name).toBe('redis-2')
    expect(p.metadata?.labels).toEqual({
      app: 'redis',
      'statefulset.kubernetes.io/pod-name': 'redis-2',
      'apps.kubernetes.io/pod-index': '2',
      'controller-revision-hash': 'redis-abc',
    })
    expect(p.spec?.hostname).toBe('redis-2')
    expect(p.spec?.subdomain).toBe('redis-headless')
  })

  it('makes the StatefulSet the controlling owner of its pods', () => {
    expect(newPod(statefulSet(), 0, updateOf(statefulSet())).metadata?.ownerReferences).toEqual([
      {apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'redis', uid: 'set-uid', controller: true, blockOwnerDeletion: true},
    ])
  })

  it('mounts the claim <template>-<set>-<ordinal> as a volume named after the template', () => {
    expect(newPod(statefulSet(), 1, updateOf(statefulSet())).spec?.volumes).toEqual([{name: 'data', persistentVolumeClaim: {claimName: 'data-redis-1', readOnly: false}}])
  })

  it('labels claims with the template labels and the selector labels, and leaves them unowned by default', () => {
    const set = statefulSet()
    set.spec!.volumeClaimTemplates![0].metadata!.labels = {tier: 'storage'}
    const [claim] = newClaims(set, 4)
    expect(claim.metadata?.name).toBe('data-redis-4')
    expect(claim.metadata?.labels).toEqual({tier: 'storage', app: 'redis'})
    expect(claim.metadata?.ownerReferences).toBeUndefined()
  })

  it('reads ordinals only from names of the set', () => {
    expect(ordinalOf('redis-12', 'redis')).toBe(12)
    expect(ordinalOf('redis-cache-1', 'redis')).toBe(-1)
    expect(ordinalOf('redis', 'redis')).toBe(-1)
  })
})

describe('OrderedReady', () => {
  it('creates only pod 0, with its claim, in an empty set', () => {
    expect(summary(plan(statefulSet(), []).actions)).toEqual(['create redis-0 +data-redis-0'])
  })

  it('does not create pod 1 while pod 0 is not Ready', () => {
    const set = statefulSet()
    expect(plan(set, [pod(set, 0, 'running')], claimsFor(set, 0)).actions).toEqual([])
  })

  it('creates pod 1 once pod 0 is Running and Ready', () => {
    const set = statefulSet()
    expect(summary(plan(set, [pod(set, 0)], claimsFor(set, 0)).actions)).toEqual(['create redis-1 +data-redis-1'])
  })

  it('reuses a claim that survived an earlier scale-down instead of creating it', () => {
    const set = statefulSet()
    expect(summary(plan(set, [pod(set, 0)], claimsFor(set, 0, 1)).actions)).toEqual(['create redis-1'])
  })

  it('scales down one pod at a time from the highest ordinal', () => {
    const set = statefulSet({replicas: 1})
    const pods = [0, 1, 2].map((o) => pod(set, o))
    expect(summary(plan(set, pods, claimsFor(set, 0, 1, 2)).actions)).toEqual(['delete redis-2 (scale-down)'])
  })

  it('waits for the removed pod to be gone before removing the next one', () => {
    const set = statefulSet({replicas: 1})
    const pods = [pod(set, 0), pod(set, 1), pod(set, 2, 'terminating')]
    expect(plan(set, pods, claimsFor(set, 0, 1, 2)).actions).toEqual([])
  })

  it('does not scale down while a remaining pod is not Ready', () => {
    const set = statefulSet({replicas: 1})
    expect(plan(set, [pod(set, 0, 'running'), pod(set, 1)], claimsFor(set, 0, 1)).actions).toEqual([])
  })
})

describe('Parallel', () => {
  it('creates every missing pod at once', () => {
    const set = statefulSet({podManagementPolicy: 'Parallel'})
    expect(summary(plan(set, []).actions)).toEqual(['create redis-0 +data-redis-0', 'create redis-1 +data-redis-1', 'create redis-2 +data-redis-2'])
  })

  it('removes every pod above the new size at once, even unready ones', () => {
    const set = statefulSet({podManagementPolicy: 'Parallel', replicas: 1})
    const pods = [pod(set, 0, 'pending'), pod(set, 1, 'running'), pod(set, 2)]
    expect(summary(plan(set, pods, claimsFor(set, 0, 1, 2)).actions)).toEqual(['delete redis-2 (scale-down)', 'delete redis-1 (scale-down)'])
  })
})

describe('replacing pods', () => {
  it('deletes a Failed pod and does nothing else for that ordinal until it is gone', () => {
    const set = statefulSet()
    const pods = [pod(set, 0), pod(set, 1, 'failed'), pod(set, 2)]
    expect(summary(plan(set, pods, claimsFor(set, 0, 1, 2)).actions)).toEqual(['delete redis-1 (failed)'])
  })

  it('recreates a pod deleted by someone else with the same name and claim', () => {
    const set = statefulSet()
    const result = plan(set, [pod(set, 0), pod(set, 2)], claimsFor(set, 0, 1, 2))
    expect(summary(result.actions)).toEqual(['create redis-1'])
    const created = result.actions[0] as Extract<StatefulSetAction, {kind: 'createPod'}>
    expect(created.pod.spec?.volumes?.[0].persistentVolumeClaim?.claimName).toBe('data-redis-1')
  })

  it('recreates a claim deleted under a pending pod', () => {
    const set = statefulSet()
    expect(summary(plan(set, [pod(set, 0, 'pending')], new Map()).actions)).toEqual(['claims data-redis-0'])
  })
})

describe('rolling update', () => {
  it('deletes the highest pod of an old revision first, one at a time', () => {
    const set = statefulSet()
    const pods = [0, 1, 2].map((o) => pod(set, o, 'ready', OLD.name))
    expect(summary(plan(set, pods, claimsFor(set, 0, 1, 2)).actions)).toEqual(['delete redis-2 (update)'])
  })

  it('waits for the updated pod to be Ready before the next one', () => {
    const set = statefulSet()
    const pods = [pod(set, 0, 'ready', OLD.name), pod(set, 1, 'ready', OLD.name), pod(set, 2, 'running')]
    expect(plan(set, pods, claimsFor(set, 0, 1, 2)).actions).toEqual([])
  })

  it('leaves pods below the partition alone', () => {
    const set = statefulSet({updateStrategy: {type: 'RollingUpdate', rollingUpdate: {partition: 2}}})
    const pods = [pod(set, 0, 'ready', OLD.name), pod(set, 1, 'ready', OLD.name), pod(set, 2)]
    expect(plan(set, pods, claimsFor(set, 0, 1, 2)).actions).toEqual([])
  })

  it('does nothing under OnDelete', () => {
    const set = statefulSet({updateStrategy: {type: 'OnDelete'}})
    const pods = [0, 1, 2].map((o) => pod(set, o, 'ready', OLD.name))
    expect(plan(set, pods, claimsFor(set, 0, 1, 2)).actions).toEqual([])
  })

  it('recreates a pod below the partition at the current revision, and one at or above it at the update revision', () => {
    const set = statefulSet({replicas: 4, podManagementPolicy: 'Parallel', updateStrategy: {type: 'RollingUpdate', rollingUpdate: {partition: 2}}}, {replicas: 3, currentRevision: OLD.name})
    const created = plan(set, [pod(set, 0, 'ready', OLD.name), pod(set, 2)], claimsFor(set, 0, 1, 2, 3)).actions.flatMap((a) => (a.kind === 'createPod' ? [a.pod] : []))
    expect(created.map((p) => [p.metadata?.name, p.metadata?.labels?.['controller-revision-hash'], p.spec?.containers[0].image])).toEqual([
      ['redis-1', OLD.name, 'redis:6'],
      ['redis-3', updateOf(set).name, 'redis:7'],
    ])
  })

  it('recreates a pod deleted under OnDelete at the update revision', () => {
    const set = statefulSet({updateStrategy: {type: 'OnDelete'}}, {replicas: 3, currentRevision: OLD.name})
    const result = plan(set, [pod(set, 0, 'ready', OLD.name), pod(set, 2, 'ready', OLD.name)], claimsFor(set, 0, 1, 2))
    const created = result.actions.flatMap((a) => (a.kind === 'createPod' ? [a.pod] : []))
    expect(created.map((p) => p.metadata?.labels?.['controller-revision-hash'])).toEqual([updateOf(set).name])
  })

  it('no longer counts the pod it deletes for the update as current', () => {
    const set = statefulSet({}, {replicas: 3, currentRevision: OLD.name})
    const result = plan(set, [0, 1, 2].map((o) => pod(set, o, 'ready', OLD.name)), claimsFor(set, 0, 1, 2))
    expect(result.status.currentReplicas).toBe(2)
  })
})

describe('status', () => {
  it('counts created, ready, current and updated pods', () => {
    const set = statefulSet({}, {replicas: 0, currentRevision: OLD.name})
    const pods = [pod(set, 0, 'ready', OLD.name), pod(set, 1, 'running'), pod(set, 2, 'terminating', OLD.name)]
    expect(plan(set, pods, claimsFor(set, 0, 1, 2)).status).toEqual({
      observedGeneration: 3,
      replicas: 3,
      readyReplicas: 2,
      availableReplicas: 2,
      currentReplicas: 1,
      updatedReplicas: 1,
      currentRevision: OLD.name,
      updateRevision: updateOf(set).name,
      collisionCount: 0,
    })
  })

  it('makes the update revision current once every pod runs it and is Ready', () => {
    const set = statefulSet({}, {replicas: 3, currentRevision: OLD.name})
    const status = plan(set, [0, 1, 2].map((o) => pod(set, o)), claimsFor(set, 0, 1, 2)).status
    expect(status.currentRevision).toBe(updateOf(set).name)
    expect(status.currentReplicas).toBe(3)
  })

  it('leaves the current revision as it was under OnDelete, even once every pod runs the update revision (Kubernetes before 1.36)', () => {
    const set = statefulSet({updateStrategy: {type: 'OnDelete'}}, {replicas: 3, currentRevision: OLD.name})
    const status = plan(set, [0, 1, 2].map((o) => pod(set, o)), claimsFor(set, 0, 1, 2)).status
    expect(status).toMatchObject({currentRevision: OLD.name, updateRevision: updateOf(set).name, currentReplicas: 0, updatedReplicas: 3})
  })

  it('counts a pod as available only minReadySeconds after it became Ready, and asks to look again then', () => {
    const set = statefulSet({minReadySeconds: 90})
    const result = plan(set, [pod(set, 0)], claimsFor(set, 0))
    expect(result.status.readyReplicas).toBe(1)
    expect(result.status.availableReplicas).toBe(0)
    expect(result.requeueAfterMs).toBe(30_000)
    expect(result.actions).toEqual([])
  })

  it('treats an absent field and zero as the same stored status', () => {
    expect(statusMatches({replicas: 0}, {replicas: 0, readyReplicas: 0})).toBe(true)
    expect(statusMatches({replicas: 1}, {replicas: 2})).toBe(false)
  })

  it('only writes status while the set is being deleted', () => {
    const set = statefulSet()
    set.metadata!.deletionTimestamp = new Date(NOW)
    expect(plan(set, []).actions).toEqual([])
  })
})

describe('claim retention policy', () => {
  it('owns claims by the StatefulSet when whenDeleted is Delete', () => {
    const set = statefulSet({persistentVolumeClaimRetentionPolicy: {whenDeleted: 'Delete', whenScaled: 'Retain'}})
    expect(newClaims(set, 0)[0].metadata?.ownerReferences).toEqual([{apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'redis', uid: 'set-uid'}])
  })

  it('hands the claim of a scaled-away pod to that pod when whenScaled is Delete, before deleting the pod', () => {
    const set = statefulSet({replicas: 2, persistentVolumeClaimRetentionPolicy: {whenDeleted: 'Retain', whenScaled: 'Delete'}})
    const pods = [0, 1, 2].map((o) => pod(set, o))
    expect(summary(plan(set, pods, claimsFor(set, 0, 1, 2)).actions)).toEqual(['own data-redis-2 by Pod/redis-2', 'delete redis-2 (scale-down)'])
  })

  it('moves the claim from the set to the pod when both policies are Delete', () => {
    const set = statefulSet({replicas: 2, persistentVolumeClaimRetentionPolicy: {whenDeleted: 'Delete', whenScaled: 'Delete'}})
    const claim = newClaims(set, 2)[0]
    expect(claimOwners(claim, set, pod(set, 2), false)).toEqual([{apiVersion: 'v1', kind: 'Pod', name: 'redis-2', uid: 'pod-uid-2'}])
  })

  it('does not recreate a pod onto a claim still owned by its deleted predecessor', () => {
    const set = statefulSet({replicas: 3, persistentVolumeClaimRetentionPolicy: {whenDeleted: 'Retain', whenScaled: 'Delete'}})
    const claims = claimsFor(set, 0, 1, 2)
    claims.get('data-redis-2')!.metadata!.ownerReferences = [{apiVersion: 'v1', kind: 'Pod', name: 'redis-2', uid: 'old'}]
    expect(plan(set, [pod(set, 0), pod(set, 1)], claims).actions).toEqual([])
  })

  it('removes owners from claims of a Retain/Retain set', () => {
    const set = statefulSet()
    const claim = newClaims(set, 0)[0]
    claim.metadata!.ownerReferences = [{apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'redis', uid: 'set-uid'}]
    expect(claimOwners(claim, set, pod(set, 0), true)).toEqual([])
  })
})

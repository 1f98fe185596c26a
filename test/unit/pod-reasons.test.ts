import type {CoreV1Event} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {PodStuckError} from '../../src/errors.js'
import {latestWarnings, stuckPod, waitingReason} from '../../src/kube/pod-reasons.js'
import type {RedisPod} from '../../src/kube/pods.js'
import {notCreated} from '../../src/workflows/pods.js'

const pod = (extra: Partial<RedisPod> = {}): RedisPod => ({
  name: 'redis-cluster-3', uid: 'u3', port: 6379, phase: 'Pending', ready: false, terminating: false, annotations: {},
  unscheduled: false, claims: ['data-redis-cluster-3'], ...extra,
})

const event = (kind: string, name: string, uid: string, reason: string, message: string, at: string): CoreV1Event =>
  ({metadata: {name: `${name}.${at}`}, involvedObject: {kind, name, uid}, reason, message, type: 'Warning', lastTimestamp: new Date(at)})

const NO_WARNINGS = {pods: new Map(), claims: new Map()}

describe('why a pod is not Ready, and when waiting is pointless', () => {
  it('an image that cannot be pulled stops the wait, naming the pod and the reason', () => {
    const stuck = stuckPod(pod({hold: {reason: 'ImagePullBackOff', message: 'Back-off pulling image "nosuch:1"'}}), NO_WARNINGS)
    expect(stuck).toBeInstanceOf(PodStuckError)
    expect(stuck?.message).toBe('Pod redis-cluster-3 will not become Ready: ImagePullBackOff: Back-off pulling image "nosuch:1"')
    expect(stuck?.exitCode).toBe(12)
  })

  it('a crash loop stops the wait and points at the previous container\'s logs', () => {
    const stuck = stuckPod(pod({phase: 'Running', hold: {reason: 'CrashLoopBackOff', message: 'back-off 1s restarting failed container'}}), NO_WARNINGS)
    expect(stuck?.suggestions.join(' ')).toContain('kubectl logs redis-cluster-3 --previous')
  })

  it('an unscheduled pod whose claim names a missing StorageClass stops the wait, naming the claim and the class', () => {
    const warnings = latestWarnings([event('PersistentVolumeClaim', 'data-redis-cluster-3', 'c3', 'ProvisioningFailed', 'storageclass.storage.k8s.io "nosuch" not found', '2026-12-02T10:00:00Z')])
    const stuck = stuckPod(pod({unscheduled: true, hold: {reason: 'Unschedulable', message: 'pod has unbound immediate PersistentVolumeClaims'}}), warnings)
    expect(stuck?.message).toBe('Pod redis-cluster-3 will not become Ready: its PersistentVolumeClaim data-redis-cluster-3 cannot be provisioned: storageclass.storage.k8s.io "nosuch" not found')
  })

  it('a pod that is still being created or scheduled is waited for, with its reason shown', () => {
    const held = pod({unscheduled: true, hold: {reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.'}})
    expect(stuckPod(held, NO_WARNINGS)).toBeUndefined()
    expect(waitingReason(held, NO_WARNINGS)).toBe('Unschedulable: 0/3 nodes are available: 3 Insufficient memory.')
  })

  it('shows the latest Warning of this incarnation of the pod, not of an earlier pod of the same name', () => {
    const warnings = latestWarnings([
      event('Pod', 'redis-cluster-3', 'u3', 'BackOff', 'older', '2026-12-02T10:00:00Z'),
      event('Pod', 'redis-cluster-3', 'u3', 'Failed', 'Error: ErrImagePull', '2026-12-02T10:00:05Z'),
      event('Pod', 'redis-cluster-3', 'old-uid', 'Failed', 'from the pod before', '2026-12-02T10:00:09Z'),
    ])
    expect(waitingReason(pod(), warnings)).toBe('Failed: Error: ErrImagePull')
  })
})

describe('the pods a wait for Ready pods still misses altogether', () => {
  const named = (ordinal: number): RedisPod => pod({name: `redis-cluster-${ordinal}`, uid: `u${ordinal}`, ordinal})

  it('names a StatefulSet\'s pod that was deleted and is not made again yet, so that "5 of 6 ready" is never said bare', () => {
    expect(notCreated([0, 1, 2, 3, 4].map(named), 6)).toEqual(['redis-cluster-5 (not created yet)'])
    expect(notCreated([0, 1, 3, 4, 5].map(named), 6)).toEqual(['redis-cluster-2 (not created yet)'])
  })

  it('counts pods it cannot name, and says nothing when every pod counted on is listed', () => {
    expect(notCreated([], 3)).toEqual(['3 pods not created yet'])
    expect(notCreated([pod({name: 'legacy-a', ordinal: undefined})], 2)).toEqual(['1 pod not created yet'])
    expect(notCreated([0, 1, 2].map(named), 3)).toEqual([])
    expect(notCreated([0, 1].map(named), undefined)).toEqual([])
  })
})

import type {V1StatefulSet} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {PreconditionError} from '../../src/errors.js'
import {requireSelfManaged} from '../../src/kube/ownership.js'
import type {RedisPod} from '../../src/kube/pods.js'

const sts = (metadata: V1StatefulSet['metadata'] = {}): V1StatefulSet => ({metadata: {name: 'redis-cluster', ...metadata}})
const pod = (name: string, extra: Partial<RedisPod> = {}): RedisPod => ({
  name, uid: name, port: 6379, phase: 'Running', ready: true, terminating: false,
  owner: {kind: 'StatefulSet', name: 'redis-cluster'}, annotations: {}, unscheduled: false, claims: [], ...extra,
})

describe('refusing to scale what an operator manages', () => {
  it('lets through pods that belong to the StatefulSet, which nothing owns', () => {
    expect(() => requireSelfManaged(sts(), [pod('redis-cluster-0'), pod('redis-cluster-1')])).not.toThrow()
  })

  it('refuses a StatefulSet owned by another object, naming it', () => {
    const owned = sts({ownerReferences: [{apiVersion: 'redis.redis.opstreelabs.in/v1beta2', kind: 'RedisCluster', name: 'prod', uid: 'u', controller: true}]})
    expect(() => requireSelfManaged(owned, [pod('redis-cluster-0')])).toThrow(/owned by RedisCluster prod/)
  })

  it('refuses pods carrying a known operator\'s annotations', () => {
    const marked = pod('redis-cluster-0', {annotations: {'redis.opstreelabs.in/recreate-statefulset': 'true'}})
    expect(() => requireSelfManaged(sts(), [marked])).toThrow(PreconditionError)
  })

  it('refuses pods that another controller owns', () => {
    const foreign = pod('redis-cluster-0', {owner: {kind: 'ReplicaSet', name: 'redis-abc'}})
    expect(() => requireSelfManaged(sts(), [foreign])).toThrow(/ReplicaSet redis-abc/)
  })

  it('a rollout of a StatefulSet an operator owns is refused in the words of a roll', () => {
    const owned = sts({ownerReferences: [{apiVersion: 'databases.spotahome.com/v1', kind: 'RedisFailover', name: 'prod', uid: 'u', controller: true}]})
    expect(() => requireSelfManaged(owned, [], 'roll')).toThrow(/would undo or fight a roll made here/)
  })
})

import type {V1StatefulSet} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {PreconditionError, UsageError} from '../../src/errors.js'
import {clusterNameOf, requireSelfManaged} from '../../src/kube/ownership.js'
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

describe('naming the cluster of the pods -l selects (clusterNameOf)', () => {
  const refusalOf = (call: () => unknown): UsageError | undefined => {
    try {
      call()
      return undefined
    } catch (error) {
      return error as UsageError
    }
  }
  const of = (statefulSet: string, ...names: string[]) => names.map((n) => pod(n, {owner: {kind: 'StatefulSet', name: statefulSet}}))

  it('with -l alone, the cluster is the StatefulSet that owns the selected pods', () => {
    expect(clusterNameOf(undefined, 'app=legacy', of('legacy', 'legacy-0', 'legacy-1'))).toBe('legacy')
  })

  it('with -l alone, pods that no StatefulSet owns leave the cluster unnamed', () => {
    expect(clusterNameOf(undefined, 'app=bare', [pod('bare', {owner: undefined}), pod('rs-x', {owner: {kind: 'ReplicaSet', name: 'rs'}})])).toBeUndefined()
  })

  it('with -l alone, a selector that matches nothing leaves the cluster unnamed (the command then says no pods match)', () => {
    expect(clusterNameOf(undefined, 'app=nope', [])).toBeUndefined()
  })

  it('pods of one StatefulSet beside pods of none: the StatefulSet names the cluster', () => {
    expect(clusterNameOf(undefined, 'app=legacy', [...of('legacy', 'legacy-0'), pod('stray', {owner: undefined})])).toBe('legacy')
  })

  it('pods of two StatefulSets are a usage error naming both and --name', () => {
    const both = [...of('legacy', 'legacy-0'), ...of('other', 'other-0', 'other-1')]
    const refusal = refusalOf(() => clusterNameOf(undefined, 'tier=cache', both))
    expect(refusal).toBeInstanceOf(UsageError)
    expect(refusal?.message).toMatch(/belong to 2 StatefulSets, legacy \(legacy-0\) and other \(other-0, other-1\)/)
    expect(refusal?.suggestions.join(' ')).toContain('--name (legacy or other)')
  })

  it('a refusal names a few pods of each StatefulSet, not all of them', () => {
    const many = [...of('legacy', ...Array.from({length: 8}, (_, i) => `legacy-${i}`)), ...of('other', 'other-0')]
    expect(refusalOf(() => clusterNameOf(undefined, 'tier=cache', many))?.message).toContain('legacy (legacy-0, legacy-1 and 6 more) and other (other-0)')
  })

  it('--name that agrees with the selected pods\' StatefulSet names the cluster', () => {
    expect(clusterNameOf('legacy', 'app=legacy', of('legacy', 'legacy-0'))).toBe('legacy')
  })

  it('--name and -l that disagree (the pods are another StatefulSet\'s) are a usage error naming both', () => {
    expect(() => clusterNameOf('legacy', 'app=other', of('other', 'other-0'))).toThrow(/--name legacy and -l app=other disagree: the selected pods of StatefulSet other \(other-0\) are not legacy's/)
  })

  it('--name over pods that no StatefulSet owns is taken as given', () => {
    expect(clusterNameOf('mine', 'app=bare', [pod('bare', {owner: undefined})])).toBe('mine')
  })
})

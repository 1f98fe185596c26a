import {describe, expect, it} from 'vitest'

import {PreconditionError, RedisUnreachableError, UsageError} from '../../src/errors.js'
import {planCreate} from '../../src/topology/create-plan.js'
import {formedCluster, type NodeState, nodeId, observe, pod} from '../support/observations.js'

const fresh = (count: number, k8sNodes?: string[]): NodeState[] =>
  Array.from({length: count}, (_, i) => ({pod: pod(i, k8sNodes?.[i]), id: nodeId(`n${i}`), state: 'fail' as const}))

const plan = (states: NodeState[], masters = 3, replicasPerMaster = 1, allowFewerThanThreeMasters = false) =>
  planCreate(states.map((s) => s.pod), observe(states), {masters, replicasPerMaster, allowFewerThanThreeMasters})

describe('planning cluster create', () => {
  it('forms fresh pods from scratch, slots split evenly as redis-cli does', () => {
    const result = plan(fresh(6))
    expect(result.kind).toBe('form')
    expect(result.layout.shards.map((s) => s.slots)).toEqual([[{start: 0, end: 5460}], [{start: 5461, end: 10922}], [{start: 10923, end: 16383}]])
    expect(result.layout.shards.map((s) => [s.master.pod, s.replicas.map((r) => r.pod)])).toEqual([
      ['redis-0', ['redis-3']], ['redis-1', ['redis-4']], ['redis-2', ['redis-5']],
    ])
  })

  it('places replicas away from their master\'s Kubernetes node', () => {
    const result = plan(fresh(6, ['a', 'a', 'b', 'b', 'c', 'c']))
    expect(result.placement.violations).toEqual([])
    for (const s of result.layout.shards) expect(s.replicas[0].k8sNode).not.toBe(s.master.k8sNode)
  })

  it('has nothing to do on a cluster formed as asked', () => {
    expect(plan(formedCluster()).kind).toBe('formed')
  })

  it('is not formed while a replica is still in its first sync: the run resumes and waits for it', () => {
    const states = formedCluster()
    states[4].replication = 'syncing'
    expect(plan(states)).toMatchObject({kind: 'resume', done: expect.arrayContaining(['3 of 3 replicas follow their masters'])})
  })

  it('is formed with a replica a few bytes behind its master, as under writes', () => {
    const states = formedCluster()
    states[4].replication = 300
    expect(plan(states).kind).toBe('formed')
  })

  it('resumes a forming where some masters already have their slots', () => {
    const states = fresh(6)
    states[0].slots = '0-5460'
    const result = plan(states)
    expect(result).toMatchObject({kind: 'resume', done: ['slots assigned on 1 of 3 masters']})
    expect(result.layout.shards[0]).toMatchObject({master: {pod: 'redis-0'}, slots: [{start: 0, end: 5460}]})
  })

  it('resumes a forming where some replicas already follow their masters', () => {
    const states = formedCluster()
    delete states[5].replicaOf
    const result = plan(states)
    expect(result).toMatchObject({kind: 'resume', done: expect.arrayContaining(['2 of 3 replicas follow their masters'])})
    expect(result.layout.shards[2].replicas.map((r) => r.pod)).toEqual(['redis-5'])
  })

  it('keeps a layout someone else started (slots on other pods than it would choose)', () => {
    const states = fresh(6)
    states[4].slots = '5461-10922'
    const result = plan(states)
    expect(result.kind).toBe('resume')
    const shard = result.layout.shards.find((s) => s.master.pod === 'redis-4')
    expect(shard?.slots).toEqual([{start: 5461, end: 10922}])
    expect(result.layout.shards.flatMap((s) => s.slots).map((r) => r.start).sort((a, b) => a - b)).toEqual([0, 5461, 10923])
  })

  it('refuses a node that holds keys but no slots', () => {
    const states = fresh(6)
    states[2].keys = 42
    expect(() => plan(states)).toThrow(PreconditionError)
    expect(() => plan(states)).toThrow(/redis-2 holds 42 keys but no slots/)
  })

  it('refuses a node that knows nodes which are none of the pods', () => {
    const states = fresh(6)
    states[1].strangers = [{id: nodeId('other'), address: '10.9.9.9:6379', slots: '0-16383'}]
    expect(() => plan(states)).toThrow(/redis-1 belongs to another cluster/)
  })

  it('refuses pods whose nodes claim the same slots (two clusters)', () => {
    const states = fresh(6)
    states[0].slots = '0-100'
    states[1].slots = '50-200'
    expect(() => plan(states)).toThrow(/claimed by several nodes/)
  })

  it('refuses a node whose view gives a slot to another node than the one claiming it', () => {
    const states = fresh(6)
    states[0].slots = '0-5460'
    states[1].knows = [nodeId('n2')]
    states[1].seesSlots = {[nodeId('n2')]: '0-10'}
    expect(() => plan(states)).toThrow(/redis-1 has a different slot map: it sees slot 0 on/)
  })

  it('refuses too few pods for the asked shape', () => {
    expect(() => plan(fresh(5))).toThrow(/need 6 pods, but 5 were found/)
  })

  it('refuses fewer than 3 masters unless explicitly allowed', () => {
    expect(() => plan(fresh(4), 2, 1)).toThrow(/at least 3 masters/)
    expect(plan(fresh(4), 2, 1, true).kind).toBe('form')
  })

  it('refuses a nonsensical shape as a usage error', () => {
    expect(() => plan(fresh(6), 0, 1)).toThrow(UsageError)
  })

  it('refuses to re-shape a formed cluster and points at scale', () => {
    expect(() => plan([...formedCluster(), {pod: pod(6), id: nodeId('n6')}, {pod: pod(7), id: nodeId('n7')}], 4, 1))
      .toThrow(/already form a cluster with 3 masters, not 4/)
  })

  it('stops with the node\'s own error when a pod cannot be reached', () => {
    const states = fresh(6)
    states[3].unreachable = true
    expect(() => plan(states)).toThrow(RedisUnreachableError)
  })
})

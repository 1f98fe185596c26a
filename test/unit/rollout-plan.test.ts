import {describe, expect, it} from 'vitest'

import {buildTopology} from '../../src/topology/model.js'
import {describeStep, planRollout, type RolloutStep} from '../../src/topology/rollout-plan.js'
import {formedCluster, type NodeState, nodeId, observe} from '../support/observations.js'

const OLD = 'redis-old'
const NEW = 'redis-new'

/** Plans with every pod on the old revision except those named. */
function plan(states: NodeState[], options: {updated?: string[]; allowUnavailable?: boolean} = {}) {
  const revisions = new Map(states.map((s) => [s.pod.pod, options.updated?.includes(s.pod.pod) ? NEW : OLD]))
  return planRollout(buildTopology(states.map((s) => s.pod), observe(states)), {revisions, updateRevision: NEW, allowUnavailable: options.allowUnavailable ?? false})
}

const summary = (steps: RolloutStep[]): string[] => steps.map((s) => (s.kind === 'failover' ? `failover ${s.from}->${s.to}` : `restart ${s.pod} as ${s.role}`))

describe('planning a rollout', () => {
  it('restarts every replica first, then fails each master over to its replica and restarts it as a replica', () => {
    expect(summary(plan(formedCluster()).steps)).toEqual([
      'restart redis-3 as replica', 'restart redis-4 as replica', 'restart redis-5 as replica',
      'failover redis-0->redis-3', 'restart redis-0 as replica',
      'failover redis-1->redis-4', 'restart redis-1 as replica',
      'failover redis-2->redis-5', 'restart redis-2 as replica',
    ])
  })

  it('fails over only onto a replica that an earlier step brought to the update revision', () => {
    const {steps} = plan(formedCluster())
    steps.forEach((step, i) => {
      if (step.kind !== 'failover') return
      expect(steps.slice(0, i).some((s) => s.kind === 'restart' && s.pod === step.to)).toBe(true)
    })
  })

  it('waits for a restarted old master as a replica of the node that took over', () => {
    const restart = plan(formedCluster()).steps.find((s) => s.kind === 'restart' && s.pod === 'redis-0')
    expect(restart).toEqual({kind: 'restart', pod: 'redis-0', role: 'replica', master: 'redis-3'})
  })

  it('skips the pods already on the update revision, so a roll killed halfway is finished by the same plan', () => {
    const states = formedCluster()
    // Killed after redis-0 failed over to redis-3: redis-3 is the master, redis-0 its replica, still on the old revision.
    states[3] = {...states[3], replicaOf: undefined, slots: '0-5460', epoch: 7}
    states[0] = {...states[0], replicaOf: states[3].id, slots: undefined}
    const p = plan(states, {updated: ['redis-3', 'redis-4', 'redis-5']})
    expect(p.updated).toEqual(['redis-3', 'redis-4', 'redis-5'])
    expect(summary(p.steps)).toEqual([
      'restart redis-0 as replica',
      'failover redis-1->redis-4', 'restart redis-1 as replica',
      'failover redis-2->redis-5', 'restart redis-2 as replica',
    ])
  })

  it('has nothing to do when every pod runs the update revision', () => {
    const states = formedCluster()
    const p = plan(states, {updated: states.map((s) => s.pod.pod)})
    expect(p.steps).toEqual([])
    expect(p.refusals).toEqual([])
  })

  it('refuses a shard whose master has no replica in sync, naming it and why', () => {
    const states = formedCluster()
    states[4].replication = 'syncing'
    const p = plan(states)
    expect(p.refusals).toEqual([expect.objectContaining({pod: 'redis-1', why: expect.stringContaining('redis-4 is still in its first or full sync')})])
    expect(summary(p.steps)).not.toContain('failover redis-1->redis-4')
  })

  it('refuses a master without any replica', () => {
    const states = formedCluster().slice(0, 3)
    expect(plan(states).refusals.map((r) => r.why)).toEqual(Array(3).fill('it has no replica to take over its slots'))
  })

  it('with --allow-unavailable restarts such a master in place and says how long its slots refuse writes', () => {
    const states = formedCluster().slice(0, 3)
    states[0].keys = 1200
    const p = plan(states, {allowUnavailable: true})
    expect(p.refusals).toEqual([])
    expect(summary(p.steps)).toEqual(['restart redis-0 as master', 'restart redis-1 as master', 'restart redis-2 as master'])
    expect(describeStep(p.steps[0])).toMatch(/slots 0-5460 refuse reads and writes from the pod's deletion until it is Ready again and has loaded its 1200 keys/)
  })

  it('fails a master over to a replica in sync, passing over one that is not', () => {
    const states = formedCluster()
    states.push({pod: {...states[3].pod, pod: 'redis-6', ordinal: 6, ip: '10.0.0.7'}, id: nodeId('n6'), replicaOf: states[0].id, knows: 'all'})
    states[3].replication = 'link-down'
    const p = plan(states)
    expect(summary(p.steps)).toContain('failover redis-0->redis-6')
    expect(summary(p.steps).indexOf('restart redis-6 as replica')).toBeLessThan(summary(p.steps).indexOf('failover redis-0->redis-6'))
  })

  it('restarts a master that owns no slots like a replica, before any failover', () => {
    const states = formedCluster()
    states.push({pod: {...states[0].pod, pod: 'redis-6', ordinal: 6, ip: '10.0.0.7'}, id: nodeId('n6'), knows: 'all'})
    expect(summary(plan(states).steps).slice(0, 4)).toEqual(['restart redis-3 as replica', 'restart redis-4 as replica', 'restart redis-5 as replica', 'restart redis-6 as empty'])
  })

  it('describes a failover with its slots and the confirmation by every node', () => {
    const failover = plan(formedCluster()).steps.find((s) => s.kind === 'failover')!
    expect(describeStep(failover)).toBe('fail over redis-0 to redis-3 (CLUSTER FAILOVER of slots 0-5460, confirmed by every node)')
  })
})

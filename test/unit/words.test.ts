import {describe, expect, it} from 'vitest'

import {formatScaleOutPreview} from '../../src/cli/plans.js'
import {checkTopology} from '../../src/topology/check.js'
import {buildTopology} from '../../src/topology/model.js'
import type {ScaleInPlan} from '../../src/topology/scale-in-plan.js'
import {refuseUnhealthy} from '../../src/workflows/preconditions.js'
import {describePlan} from '../../src/workflows/scale-in.js'
import type {ScaleOutPlanPreview} from '../../src/workflows/scale-out.js'
import {firstFew} from '../../src/util/words.js'
import {formedCluster, observe} from '../support/observations.js'

/** A count of one meets a singular noun (and verb) in what the commands print. */
describe('counts of one in messages', () => {
  it('scale --dry-run: "to 4 pods", "1 slot from", "in 1 move"', () => {
    const preview = {
      podsBefore: 3, podsAfter: 4, openSlots: [],
      joining: [{pod: 'redis-cluster-3', role: 'master', exists: false}],
      moves: [{from: 'redis-cluster-0', to: 'redis-cluster-3', slots: 1, keys: 1}],
      masters: [{pod: 'redis-cluster-3', slotsBefore: 0, slotsAfter: 1, slots: [{start: 0, end: 0}], replicas: []}],
    } as unknown as ScaleOutPlanPreview
    expect(formatScaleOutPreview('redis-cluster', preview)).toEqual([
      'Would scale StatefulSet redis-cluster from 3 to 4 pods.',
      '  redis-cluster-3 becomes a master (its Kubernetes node is known once it is scheduled)',
      'Would move 1 slot and 1 key in 1 move:',
      '  1 slot (1 key) from redis-cluster-0 to redis-cluster-3',
      'Masters afterwards:',
      '  redis-cluster-3: 0 -> 1 slot (0)',
    ])
  })

  it('scale in: "remove 1 pod"', () => {
    const plan = {removed: [{pod: 'redis-cluster-6'}], failovers: [], drained: []} as unknown as ScaleInPlan
    expect(describePlan(plan)).toBe('remove 1 pod (redis-cluster-6)')
  })

  it('check: "1 node still knows"', () => {
    const states = formedCluster()
    states[0].seesAt = {[states[1].id]: '10.1.0.9:6379'}
    const stale = checkTopology(buildTopology(states.map((s) => s.pod), observe(states))).find((f) => f.code === 'stale-address')
    expect(stale?.message).toMatch(/^1 node still knows /)
  })
})

describe('messages put one after another', () => {
  it('an unhealthy cluster\'s refusal ends each finding as a sentence: "…as a replica. The cluster marks…"', () => {
    const states = formedCluster()
    const replica = states.findIndex((s) => s.replicaOf !== undefined)
    states[replica].unreachable = true
    const findings = checkTopology(buildTopology(states.map((s) => s.pod), observe(states))).filter((f) => f.severity === 'error')
    expect(() => refuseUnhealthy([...findings.map((f) => f.message), 'The cluster marks redis-9 as failed.'], false))
      .toThrow(/know it as a replica\. The cluster marks redis-9 as failed\.$/)
  })
})

describe('a list of names in one line', () => {
  it('names up to four, and beyond that the first three and how many more: a wait over 200 pods prints a line, not a page', () => {
    const pods = Array.from({length: 200}, (_, i) => `redis-cluster-${i}`)
    expect(firstFew(pods.slice(0, 4))).toBe('redis-cluster-0, redis-cluster-1, redis-cluster-2, redis-cluster-3')
    expect(firstFew(pods)).toBe('redis-cluster-0, redis-cluster-1, redis-cluster-2 and 197 more')
  })
})

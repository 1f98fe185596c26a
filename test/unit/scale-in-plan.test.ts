import {describe, expect, it} from 'vitest'

import {PreconditionError, UsageError} from '../../src/errors.js'
import {buildTopology} from '../../src/topology/model.js'
import {mastersAfter, planScaleIn} from '../../src/topology/scale-in-plan.js'
import {countSlots, formatRanges, splitEvenly} from '../../src/topology/slots.js'
import {type NodeState, nodeId, observe, pod} from '../support/observations.js'

const K8S_NODES = ['a', 'b', 'c']

/** A formed cluster: masters on ordinals 0..M-1, then replicas ordinal by ordinal (master i's r-th at M*(r+1)+i). */
function cluster(masters: number, replicasPerMaster: number, keysPerMaster = 1000): NodeState[] {
  const ranges = splitEvenly(masters)
  const states: NodeState[] = []
  for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
    const master = i % masters
    states.push({
      pod: pod(i, K8S_NODES[i % 3]),
      id: nodeId(`n${i}`),
      knows: 'all',
      ...(i < masters ? {slots: formatRanges([ranges[i]]), epoch: i + 1, keys: keysPerMaster} : {replicaOf: nodeId(`n${master}`), keys: keysPerMaster}),
    })
  }
  return states
}

/** Swaps the roles of a master and its replica, as a failover does. */
function failOver(states: NodeState[], replicaOrdinal: number): void {
  const replica = states[replicaOrdinal]
  const master = states.find((s) => s.id === replica.replicaOf)!
  replica.slots = master.slots
  replica.replicaOf = undefined
  master.slots = undefined
  for (const s of states) if (s.replicaOf === master.id) s.replicaOf = replica.id
  master.replicaOf = replica.id
}

const plan = (states: NodeState[], masters: number, replicasPerMaster: number) =>
  planScaleIn(buildTopology(states.map((s) => s.pod), observe(states)), {masters, replicasPerMaster})

const masterPods = (p: ReturnType<typeof plan>): string[] => p.layout.shards.map((s) => s.master.pod)

describe('planning a scale in', () => {
  it('removes the highest ordinals: 5x1 to 3x1 drains the two masters on pods 3 and 4 and forgets pods 6 to 9', () => {
    const p = plan(cluster(5, 1), 3, 1)
    expect(p.podsAfter).toBe(6)
    expect(p.removed.map((r) => r.pod)).toEqual(['redis-6', 'redis-7', 'redis-8', 'redis-9'])
    expect(p.drained.map((d) => d.pod.pod)).toEqual(['redis-3', 'redis-4'])
    expect(p.failovers).toEqual([])
    expect(p.forget.map((f) => f.pod.pod)).toEqual(['redis-6', 'redis-7', 'redis-8', 'redis-9'])
    expect(masterPods(p)).toEqual(['redis-0', 'redis-1', 'redis-2'])
  })

  it('moves only the drained masters\' slots and leaves the three that stay within one slot of each other', () => {
    const p = plan(cluster(5, 1), 3, 1)
    const drainedIds = new Set(p.drained.map((d) => d.id))
    expect(p.moves.every((m) => drainedIds.has(m.from))).toBe(true)
    expect(p.moves.reduce((n, m) => n + countSlots(m.slots), 0)).toBe(p.drained.reduce((n, d) => n + countSlots(d.slots), 0))
    const counts = p.layout.shards.map((s) => countSlots(s.slots))
    expect(counts.reduce((a, b) => a + b, 0)).toBe(16384)
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
  })

  it('gives every master that stays its replicas from the pods that stay, none on its master\'s Kubernetes node', () => {
    const p = plan(cluster(5, 1), 3, 1)
    expect(p.layout.shards.map((s) => s.replicas.length)).toEqual([1, 1, 1])
    const replicas = p.layout.shards.flatMap((s) => s.replicas.map((r) => r.pod))
    expect(replicas.sort()).toEqual(['redis-3', 'redis-4', 'redis-5'])
    expect(p.placement.violations).toEqual([])
  })

  it('keeps a replica with the master it already follows', () => {
    const p = plan(cluster(5, 1), 3, 1)
    // redis-5 follows redis-0 in the 5x1 layout.
    expect(p.layout.shards.find((s) => s.master.pod === 'redis-0')!.replicas.map((r) => r.pod)).toEqual(['redis-5'])
  })

  it('fails over a master on a removed pod to its replica on a pod that stays, instead of moving its data', () => {
    const states = cluster(3, 1)
    failOver(states, 3) // redis-3 now owns redis-0's slots; redis-0 replicates it.
    const p = plan(states, 3, 0)
    expect(p.failovers).toEqual([expect.objectContaining({replica: expect.objectContaining({pod: 'redis-0'}), master: expect.objectContaining({pod: 'redis-3'})})])
    expect(p.drained).toEqual([])
    expect(p.moves).toEqual([])
    expect(masterPods(p)).toEqual(['redis-0', 'redis-1', 'redis-2'])
  })

  it('after drifted roles (a high pod master, a low pod its replica) still keeps every shard with a pod that stays', () => {
    const states = cluster(5, 1)
    failOver(states, 8) // redis-8 (removed) owns redis-3's slots; redis-3 (stays) replicates it.
    const p = plan(states, 3, 1)
    const kept = new Set(masterPods(p))
    for (const removedPod of p.removed) expect(kept.has(removedPod.pod)).toBe(false)
    expect(p.layout.shards.reduce((n, s) => n + countSlots(s.slots), 0)).toBe(16384)
    expect(p.forget.map((f) => f.pod.pod)).toContain('redis-8')
  })

  it('prefers draining a shard whose master goes over failing it over, when both hold about as many keys', () => {
    const states = cluster(4, 1)
    failOver(states, 7) // redis-7 (removed) owns redis-3's slots.
    const p = plan(states, 3, 1)
    expect(p.failovers).toEqual([])
    expect(p.drained.map((d) => d.pod.pod)).toEqual(['redis-7'])
  })

  it('keeps the shard that is dearest to move, failing it over when its master goes', () => {
    const states = cluster(4, 1)
    failOver(states, 7)
    states[7].keys = 50_000 // the shard on the removed pod holds most of the data
    const p = plan(states, 3, 1)
    expect(p.failovers.map((f) => f.master.pod)).toEqual(['redis-7'])
    expect(p.drained).toHaveLength(1)
    expect(p.drained[0].pod.pod).not.toBe('redis-7')
  })

  it('masters afterwards: each master that stays with its shard\'s slots now and afterwards, a promoted replica counting its master\'s', () => {
    const states = cluster(4, 1)
    failOver(states, 7)
    states[7].keys = 50_000
    const topology = buildTopology(states.map((s) => s.pod), observe(states))
    const p = planScaleIn(topology, {masters: 3, replicasPerMaster: 1})
    const [drained] = p.drained.map((d) => d.pod.pod)
    const after = mastersAfter(topology, p)
    expect(after.map((m) => m.pod).sort()).toEqual(['redis-0', 'redis-1', 'redis-2', 'redis-3'].filter((m) => m !== drained))
    expect(after.find((m) => m.pod === 'redis-3')).toMatchObject({slotsBefore: 4096, replicas: expect.any(Array)})
    expect(after.reduce((n, m) => n + m.slotsAfter, 0)).toBe(16384)
    for (const m of after) expect(m.slotsAfter).toBe(countSlots(m.slots))
  })

  it('lowers replicas per master from 2 to 1 by forgetting the highest pods, moving no slot', () => {
    const p = plan(cluster(3, 2), 3, 1)
    expect(p.removed.map((r) => r.pod)).toEqual(['redis-6', 'redis-7', 'redis-8'])
    expect(p.moves).toEqual([])
    expect(p.layout.shards.map((s) => s.replicas.map((r) => r.pod))).toEqual([['redis-3'], ['redis-4'], ['redis-5']])
  })

  it('plans nothing to move or fail over once a run has drained and re-homed everything', () => {
    const states = cluster(3, 1)
    const p = plan(states, 3, 1)
    expect(p).toMatchObject({removed: [], failovers: [], drained: [], moves: [], forget: []})
  })

  it('refuses to end with more masters on fewer pods', () => {
    expect(() => plan(cluster(3, 2), 4, 1)).toThrow(UsageError)
  })

  it('refuses when a master and all its replicas are on removed pods and every shard must stay', () => {
    const states = cluster(3, 1)
    // Roles as 0,1,3 masters with 2,4,5 following them: the shard of redis-3 has no pod below ordinal 3.
    const [m0, m1, m2, r0, r1, r2] = states
    Object.assign(r0, {slots: m2.slots, replicaOf: undefined, epoch: 3})
    Object.assign(m2, {slots: undefined, replicaOf: m0.id})
    Object.assign(r2, {replicaOf: r0.id})
    Object.assign(r1, {replicaOf: m1.id})
    expect(() => plan(states, 3, 0)).toThrow(PreconditionError)
  })
})

import {describe, expect, it} from 'vitest'

import {NotFoundError, UsageError} from '../../src/errors.js'
import {joinablePods, planAddMasters, planAddReplicas} from '../../src/topology/join-plan.js'
import {buildTopology, type PodRef, type Topology} from '../../src/topology/model.js'
import {previewScaleOut} from '../../src/topology/scale-out-plan.js'
import {countSlots} from '../../src/topology/slots.js'
import {formedCluster, type NodeState, nodeId, observe, pod} from '../support/observations.js'

const topologyOf = (states: NodeState[]): Topology => buildTopology(states.map((s) => s.pod), observe(states))

/**
 * The formed 3x1 cluster (masters redis-0..2 on nodes a, b, c; replicas redis-3..5 on b, c, a), plus members that
 * joined as masters without slots, plus pods outside the cluster that no node knows.
 */
function cluster({emptyMasters = [], outsiders = []}: {emptyMasters?: PodRef[]; outsiders?: PodRef[]}): NodeState[] {
  const members: NodeState[] = [...formedCluster(), ...emptyMasters.map((p) => ({pod: p, id: nodeId(`n${p.ordinal}`)}))]
  for (const s of members) s.knows = members.map((o) => o.id).filter((id) => id !== s.id)
  return [...members, ...outsiders.map((p) => ({pod: p, id: nodeId(`n${p.ordinal}`), state: 'fail' as const}))]
}

const names = (pods: readonly PodRef[]): string[] => pods.map((p) => p.pod)

describe('choosing the pods that node add / add-replica join', () => {
  it('takes the pods outside the cluster, by ordinal', () => {
    const topology = topologyOf(cluster({outsiders: [pod(7, 'b'), pod(6, 'a')]}))
    expect(names(joinablePods(topology, new Set(), 'master'))).toEqual(['redis-6', 'redis-7'])
  })

  it('takes first the pods an interrupted run recorded, even once they have met the cluster', () => {
    const topology = topologyOf(cluster({emptyMasters: [pod(7, 'b')], outsiders: [pod(6, 'a')]}))
    expect(names(joinablePods(topology, new Set(['redis-7']), 'master'))).toEqual(['redis-7', 'redis-6'])
  })

  it('leaves alone a master without slots that no run recorded: a finished node add made it on purpose', () => {
    expect(joinablePods(topologyOf(cluster({emptyMasters: [pod(6, 'a')]})), new Set(), 'master')).toEqual([])
  })

  it('never takes a pod that owns slots, holds keys, or (for a new master) already replicates', () => {
    const states = cluster({outsiders: [pod(6, 'a')]})
    states[6].keys = 5
    const topology = topologyOf(states)
    expect(joinablePods(topology, new Set(['redis-0', 'redis-3', 'redis-6']), 'master')).toEqual([])
    expect(names(joinablePods(topology, new Set(['redis-3']), 'replica'))).toEqual(['redis-3'])
  })
})

describe('planning node add', () => {
  it('keeps every shard as it is and adds the joining pods as masters without slots', () => {
    const topology = topologyOf(cluster({outsiders: [pod(6, 'a')]}))
    const plan = planAddMasters(topology, [pod(6, 'a')])
    expect(plan.layout.shards.map((s) => [s.master.pod, s.slots.length, names(s.replicas)])).toEqual([
      ['redis-0', 1, ['redis-3']], ['redis-1', 1, ['redis-4']], ['redis-2', 1, ['redis-5']], ['redis-6', 0, []],
    ])
  })
})

describe('planning node add-replica', () => {
  it('gives the new pod to the master with the fewest replicas', () => {
    const plan = planAddReplicas(topologyOf(cluster({emptyMasters: [pod(6, 'a')], outsiders: [pod(7, 'b')]})), [pod(7, 'b')])
    expect(plan.joining.map((j) => [j.pod.pod, j.master?.pod])).toEqual([['redis-7', 'redis-6']])
    expect(plan.violations).toEqual([])
  })

  it('among masters with as few replicas, picks one the pod can follow from another Kubernetes node', () => {
    const plan = planAddReplicas(topologyOf(cluster({outsiders: [pod(6, 'a')]})), [pod(6, 'a')])
    expect(plan.joining[0].master?.pod).toBe('redis-1')
  })

  it('follows the named master, and warns when the pod must share its Kubernetes node', () => {
    const plan = planAddReplicas(topologyOf(cluster({outsiders: [pod(6, 'a')]})), [pod(6, 'a')], 'redis-0')
    expect(plan.joining[0].master?.pod).toBe('redis-0')
    expect(plan.violations).toEqual([expect.objectContaining({kind: 'same-node', where: 'a'})])
  })

  it('spreads several new replicas over the masters with the fewest', () => {
    const topology = topologyOf(cluster({outsiders: [pod(6, 'a'), pod(7, 'b'), pod(8, 'c')]}))
    const plan = planAddReplicas(topology, [pod(6, 'a'), pod(7, 'b'), pod(8, 'c')])
    expect(plan.joining.map((j) => j.master?.pod).sort()).toEqual(['redis-0', 'redis-1', 'redis-2'])
    expect(plan.violations).toEqual([])
  })

  it('keeps a pod that already replicates (a resumed run) with its master', () => {
    const plan = planAddReplicas(topologyOf(formedCluster()), [pod(3, 'b')])
    expect(plan.joining.map((j) => [j.pod.pod, j.master?.pod])).toEqual([['redis-3', 'redis-0']])
  })

  it('refuses a --master that is a replica as a usage error, and one that is no pod as not found', () => {
    const topology = topologyOf(cluster({outsiders: [pod(6, 'a')]}))
    expect(() => planAddReplicas(topology, [pod(6, 'a')], 'redis-3')).toThrow(UsageError)
    expect(() => planAddReplicas(topology, [pod(6, 'a')], 'redis-42')).toThrow(NotFoundError)
  })
})

describe('previewing scale --masters N', () => {
  it('names the new pods\' roles and moves an even share of slots to the new master', () => {
    const topology = topologyOf(formedCluster())
    const newPods = [6, 7].map((i) => ({pod: `redis-${i}`, ordinal: i, ip: '', port: 6379}))
    const preview = previewScaleOut(topology, newPods, 4, 1, {thresholdPercent: 1, useEmptyMasters: true})
    expect(preview.joining).toEqual([
      {pod: 'redis-6', role: 'master', k8sNode: undefined, exists: false},
      {pod: 'redis-7', role: 'replica', master: 'redis-6', k8sNode: undefined, exists: false},
    ])
    expect(preview.moves.every((m) => m.to === 'redis-6')).toBe(true)
    expect(preview.moves.reduce((n, m) => n + countSlots(m.slots), 0)).toBe(4096)
    expect(preview.masters.map((m) => m.slotsAfter)).toEqual([4096, 4096, 4096, 4096])
  })
})

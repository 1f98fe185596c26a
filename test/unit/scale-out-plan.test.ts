import {describe, expect, it} from 'vitest'

import {PreconditionError} from '../../src/errors.js'
import {buildTopology} from '../../src/topology/model.js'
import {planScaleOut} from '../../src/topology/scale-out-plan.js'
import {formedCluster, type NodeState, nodeId, observe, pod} from '../support/observations.js'

/** The formed 3x1 cluster and new pods that nobody has met yet. */
function withNewPods(...extra: NodeState[]): NodeState[] {
  const formed = formedCluster()
  for (const s of formed) s.knows = formed.map((o) => o.id).filter((id) => id !== s.id)
  return [...formed, ...extra]
}

describe('planning a scale out', () => {
  it('refuses a new pod that holds keys from a volume an earlier member left', () => {
    const states = withNewPods({pod: pod(6), id: nodeId('n6'), keys: 500}, {pod: pod(7), id: nodeId('n7')})
    const topology = buildTopology(states.map((s) => s.pod), observe(states))
    expect(() => planScaleOut(topology, 4, 1)).toThrow(PreconditionError)
    expect(() => planScaleOut(topology, 4, 1)).toThrow(/redis-6 \(500 keys/)
  })

  it('makes an empty new pod a master and the other its replica', () => {
    const states = withNewPods({pod: pod(6, 'a'), id: nodeId('n6')}, {pod: pod(7, 'b'), id: nodeId('n7')})
    const {layout} = planScaleOut(buildTopology(states.map((s) => s.pod), observe(states)), 4, 1)
    expect(layout.shards).toHaveLength(4)
    expect(layout.shards[3]).toMatchObject({slots: [], replicas: [expect.anything()]})
  })

  it('makes the new pod on the Kubernetes node with the fewest masters the new master, not the lowest ordinal', () => {
    // Masters redis-0 and redis-1 on a, redis-2 on c; redis-6 on a, redis-7 on b.
    const states = withNewPods({pod: pod(6, 'a'), id: nodeId('n6')}, {pod: pod(7, 'b'), id: nodeId('n7')})
    states[1].pod = {...states[1].pod, k8sNode: 'a'}
    const {layout} = planScaleOut(buildTopology(states.map((s) => s.pod), observe(states)), 4, 1)
    expect(layout.shards[3].master.pod).toBe('redis-7')
    expect(layout.shards[3].replicas.map((r) => r.pod)).toEqual(['redis-6'])
  })

  it('after an interrupted run made redis-7 an empty master with redis-6 its replica, growing further keeps redis-7 the master', () => {
    const n6 = nodeId('n6')
    const n7 = nodeId('n7')
    const states = withNewPods({pod: pod(6, 'a'), id: n6, replicaOf: n7}, {pod: pod(7, 'b'), id: n7}, {pod: pod(8, 'c'), id: nodeId('n8')}, {pod: pod(9, 'a'), id: nodeId('n9')})
    for (const s of states) s.knows = states.filter((o) => o.id !== s.id && (s.pod.ordinal < 8) === (o.pod.ordinal < 8)).map((o) => o.id)
    const {layout} = planScaleOut(buildTopology(states.map((s) => s.pod), observe(states)), 5, 1)
    expect(layout.shards).toHaveLength(5)
    expect(layout.shards.find((s) => s.master.pod === 'redis-7')?.replicas.map((r) => r.pod)).toEqual(['redis-6'])
    expect(layout.shards.map((s) => s.master.pod)).not.toContain('redis-6')
  })
})

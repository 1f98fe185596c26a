import {describe, expect, it} from 'vitest'

import {NotFoundError, PreconditionError, UsageError} from '../../src/errors.js'
import {buildTopology} from '../../src/topology/model.js'
import {planNodeRemoval, shrinkAfterRemoval} from '../../src/topology/remove-node-plan.js'
import {formedCluster, nodeId, type NodeState, observe, pod} from '../support/observations.js'

const plan = (states: NodeState[], pod: string, replicaOnly = false) =>
  planNodeRemoval(buildTopology(states.map((s) => s.pod), observe(states)), pod, replicaOnly)

/** The formed 3x1 cluster with redis-0's slots given to redis-1, as slots reshard --from redis-0 leaves it. */
function emptiedMaster(): NodeState[] {
  const states = formedCluster()
  states[1].slots = `${states[0].slots} ${states[1].slots}`
  states[0].slots = undefined
  return states
}

describe('planning to take one node out', () => {
  it('takes a replica out with nothing to re-home', () => {
    expect(plan(formedCluster(), 'redis-3', true)).toMatchObject({alreadyOut: false, rehomed: []})
  })

  it('refuses a master when only replicas may go, naming the commands that remove a master', () => {
    expect(() => plan(formedCluster(), 'redis-0', true)).toThrow(UsageError)
    expect(() => plan(formedCluster(), 'redis-0', true)).toThrow(/owning 5461 slots/)
  })

  it('refuses a master that still owns slots', () => {
    expect(() => plan(formedCluster(), 'redis-0')).toThrow(PreconditionError)
  })

  it('moves the replica of an emptied master to the master with the fewest replicas, off its Kubernetes node', () => {
    const p = plan(emptiedMaster(), 'redis-0')
    // redis-3 (node b) followed redis-0; redis-1 (node b) and redis-2 (node c) have one replica each.
    expect(p.rehomed.map((r) => [r.replica.pod, r.master.pod])).toEqual([['redis-3', 'redis-2']])
    expect(p.layout.shards.map((s) => s.master.pod)).toEqual(['redis-1', 'redis-2'])
  })

  it('says a pod that is not in the cluster is not found', () => {
    expect(() => plan(formedCluster(), 'redis-9')).toThrow(NotFoundError)
  })
})

describe('how far the StatefulSet shrinks once a node is out', () => {
  const shrink = (states: NodeState[], replicas: number, leaving: string) =>
    shrinkAfterRemoval(buildTopology(states.map((s) => s.pod), observe(states)), replicas, leaving)

  it('removes the top pod when it is the one that leaves', () => {
    expect(shrink(formedCluster(), 6, 'redis-5')).toEqual({podsAfter: 5, removedPods: ['redis-5'], outside: []})
  })

  it('keeps a lower pod running, empty and outside the cluster, when the top one stays', () => {
    expect(shrink(formedCluster(), 6, 'redis-4')).toEqual({podsAfter: 6, removedPods: [], outside: ['redis-4']})
  })

  it('removes the top pod too when it was left outside by an earlier node del-replica', () => {
    // Forgotten by every node and reset: it knows no node and no node knows it.
    const states = formedCluster().map((s, _, all) => ({...s, knows: all.map((o) => o.id).filter((id) => id !== s.id)}))
    const outsider: NodeState = {pod: pod(6, 'b'), id: nodeId('n6')}
    expect(shrink([...states, outsider], 7, 'redis-5')).toEqual({podsAfter: 5, removedPods: ['redis-5', 'redis-6'], outside: []})
  })
})

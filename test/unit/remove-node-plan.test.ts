import {describe, expect, it} from 'vitest'

import {NotFoundError, PreconditionError, UsageError} from '../../src/errors.js'
import {buildTopology} from '../../src/topology/model.js'
import {planNodeRemoval} from '../../src/topology/remove-node-plan.js'
import {formedCluster, type NodeState, observe} from '../support/observations.js'

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

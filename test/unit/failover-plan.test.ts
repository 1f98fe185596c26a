import {describe, expect, it} from 'vitest'

import {NotFoundError, PreconditionError, UsageError} from '../../src/errors.js'
import {crowdingWarning, planDrill, planEvacuation, planFailover, type FailoverRequest} from '../../src/topology/failover-plan.js'
import {buildTopology} from '../../src/topology/model.js'
import {formedCluster, type NodeState, nodeId, observe, pod} from '../support/observations.js'

const topologyOf = (states: NodeState[]) => buildTopology(states.map((s) => s.pod), observe(states))
const plan = (states: NodeState[], request: Partial<FailoverRequest> & {pod: string}) => planFailover(topologyOf(states), {mode: 'planned', ...request})

/** formedCluster with a second replica for redis-0 (redis-6, on k8s node c). */
function twoReplicasForRedis0(): NodeState[] {
  const states = formedCluster()
  states.push({pod: pod(6, 'c'), id: nodeId('n6'), replicaOf: nodeId('n0'), knows: 'all'})
  return states
}

const failureOf = (fn: () => unknown): Error => {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a refusal')
}

describe('planning redisctl failover POD', () => {
  it('hands a master to its in-sync replica', () => {
    expect(plan(formedCluster(), {pod: 'redis-0'})).toMatchObject({mode: 'planned', master: {name: 'redis-0', id: nodeId('n0')}, replica: {name: 'redis-3', id: nodeId('n3')}})
  })

  it('prefers the in-sync replica on the Kubernetes node holding fewer masters', () => {
    // redis-3 is on b (master redis-1 there), redis-6 on c (master redis-2 there): a tie, then the lowest ordinal.
    expect(plan(twoReplicasForRedis0(), {pod: 'redis-0'}).replica.name).toBe('redis-3')
    const states = twoReplicasForRedis0()
    states[6].pod = pod(6, 'd')
    expect(plan(states, {pod: 'redis-0'}).replica.name).toBe('redis-6')
  })

  it('warns when the replica it promotes runs beside another master: with one replica per master there is no other choice', () => {
    const states = formedCluster()
    // redis-0's only replica, redis-3, runs on b beside the master redis-1.
    expect(crowdingWarning(topologyOf(states), plan(states, {pod: 'redis-0'}))).toBe(
      'redis-3 runs on Kubernetes node b beside the master redis-1: afterwards 2 masters run there, and losing that node takes them all at once.')
  })

  it('names the replica on a Kubernetes node without a master when --to chose one beside a master, and warns of nothing for that one', () => {
    const states = twoReplicasForRedis0()
    states[6].pod = pod(6, 'd')
    const topology = topologyOf(states)
    expect(crowdingWarning(topology, plan(states, {pod: 'redis-0', to: 'redis-3'}))).toContain('redisctl failover redis-0 --to redis-6 puts it on d, which holds no master.')
    expect(crowdingWarning(topology, plan(states, {pod: 'redis-0'}))).toBeUndefined()
  })

  it('skips a replica still in its first sync for one in sync', () => {
    const states = twoReplicasForRedis0()
    states[3].replication = 'syncing'
    expect(plan(states, {pod: 'redis-0'}).replica.name).toBe('redis-6')
  })

  it('promotes the replica named by --to', () => {
    expect(plan(twoReplicasForRedis0(), {pod: 'redis-0', to: 'redis-6'}).replica.name).toBe('redis-6')
  })

  it('refuses when no replica is in sync, naming each replica and why (precondition, exit 4)', () => {
    const states = twoReplicasForRedis0()
    states[3].replication = 'syncing'
    states[6].replication = 'link-down'
    const error = failureOf(() => plan(states, {pod: 'redis-0'}))
    expect(error).toBeInstanceOf(PreconditionError)
    expect(error.message).toContain('redis-3 is still in its first or full sync with its master redis-0')
    expect(error.message).toContain('redis-6 cannot reach its master redis-0')
  })

  it('refuses --to a replica that lags, saying by how much', () => {
    const states = formedCluster()
    states[3].replication = 300
    const error = failureOf(() => plan(states, {pod: 'redis-0', to: 'redis-3'}))
    expect(error).toBeInstanceOf(PreconditionError)
    expect(error.message).toContain('redis-3 lags 300 bytes behind its master redis-0')
  })

  it('refuses a master without a replica', () => {
    const states = formedCluster().slice(0, 5)
    expect(failureOf(() => plan(states, {pod: 'redis-2'})).message).toBe('redis-2 has no replica: there is nobody to hand its slots to.')
  })

  it('refuses a replica as POD, naming its master and the --to that promotes it (usage, exit 2)', () => {
    const error = failureOf(() => plan(formedCluster(), {pod: 'redis-3'}))
    expect(error).toBeInstanceOf(UsageError)
    expect(error.message).toContain('it replicates redis-0')
  })

  it('run again with --to once the failover is done, plans the same step (it only waits for every node to agree)', () => {
    const states = formedCluster()
    states[3] = {...states[3], replicaOf: undefined, slots: '0-5460', epoch: 7}
    states[0] = {...states[0], replicaOf: nodeId('n3'), slots: undefined}
    expect(plan(states, {pod: 'redis-0', to: 'redis-3'})).toMatchObject({master: {name: 'redis-0'}, replica: {name: 'redis-3'}})
  })

  it('refuses --to a pod that is not a replica of that master', () => {
    expect(failureOf(() => plan(formedCluster(), {pod: 'redis-0', to: 'redis-4'}))).toBeInstanceOf(UsageError)
  })

  it('refuses a pod name that is not in the cluster (not found, exit 3)', () => {
    expect(failureOf(() => plan(formedCluster(), {pod: 'redis-9'}))).toBeInstanceOf(NotFoundError)
  })

  it('refuses a planned failover of a master that does not answer, pointing at --force', () => {
    const states = formedCluster()
    states[0].unreachable = true
    const error = failureOf(() => plan(states, {pod: 'redis-0'}))
    expect(error).toBeInstanceOf(PreconditionError)
    expect(error.message).toContain('redis-0 did not answer')
  })

  it('refuses --force while the master answers', () => {
    expect(failureOf(() => plan(formedCluster(), {pod: 'redis-0', mode: 'force'}))).toBeInstanceOf(UsageError)
  })

  it('forces a failover of a master that is gone onto its replica that replicated the most', () => {
    const states = twoReplicasForRedis0()
    states[0].unreachable = true
    states[3].replication = 200
    states[6].replication = 'link-down'
    expect(plan(states, {pod: 'redis-0', mode: 'takeover'})).toMatchObject({mode: 'takeover', replica: {name: 'redis-6'}})
  })
})

describe('planning redisctl evacuate --k8s-node', () => {
  it('hands every master on the node to an in-sync replica on another node and leaves its replicas', () => {
    // Node a holds master redis-0 and redis-5 (replica of redis-2).
    const evacuation = planEvacuation(topologyOf(formedCluster()), 'a')
    expect(evacuation.pods).toEqual(['redis-0', 'redis-5'])
    expect(evacuation.failovers.map((f) => [f.master.name, f.replica.name])).toEqual([['redis-0', 'redis-3']])
    expect(evacuation.unmovable).toEqual([])
  })

  it('moves nothing from a node that holds only replicas', () => {
    const states = formedCluster()
    const evacuation = planEvacuation(topologyOf(states), 'd')
    expect(evacuation).toEqual({k8sNode: 'd', pods: [], failovers: [], unmovable: []})
  })

  it('says which shard it cannot move when all its replicas are on that node too', () => {
    const states = formedCluster()
    states[3].pod = pod(3, 'a')
    const evacuation = planEvacuation(topologyOf(states), 'a')
    expect(evacuation.failovers).toEqual([])
    expect(evacuation.unmovable).toEqual([{master: 'redis-0', reason: 'every replica of redis-0 (redis-3) runs on a too'}])
  })

  it('never promotes a replica on the node being evacuated, even when it is the only one in sync', () => {
    const states = twoReplicasForRedis0()
    states[3].pod = pod(3, 'a')
    states[6].replication = 'syncing'
    const evacuation = planEvacuation(topologyOf(states), 'a')
    expect(evacuation.failovers).toEqual([])
    expect(evacuation.unmovable[0].reason).toBe('no replica of redis-0 off a is in sync: redis-6 is still in its first or full sync with its master redis-0')
  })

  it('spreads the new masters over the nodes holding the fewest', () => {
    // Masters redis-0 and redis-1 on a, redis-2 on b; redis-0's replicas on b and c, redis-1's on c and d.
    const pods = ['a', 'a', 'b', 'b', 'c', 'c', 'd'].map((k8sNode, i) => pod(i, k8sNode))
    const slots = ['0-5460', '5461-10922', '10923-16383']
    const masterOf = [undefined, undefined, undefined, 0, 0, 1, 1]
    const states: NodeState[] = pods.map((p, i) => ({pod: p, id: nodeId(`n${i}`), knows: 'all',
      ...(masterOf[i] === undefined ? {slots: slots[i], epoch: i + 1} : {replicaOf: nodeId(`n${masterOf[i]}`)})}))
    const evacuation = planEvacuation(topologyOf(states), 'a')
    expect(evacuation.failovers.map((f) => [f.master.name, f.replica.name, f.replica.pod.k8sNode])).toEqual([['redis-0', 'redis-4', 'c'], ['redis-1', 'redis-6', 'd']])
  })
})

describe('choosing the master drill failover deletes', () => {
  it('takes the first master with a replica in sync', () => {
    const states = formedCluster()
    states[3].replication = 'syncing'
    expect(planDrill(topologyOf(states))).toMatchObject({master: {name: 'redis-1'}, replicas: ['redis-4']})
  })

  it('refuses a cluster check finds errors in (precondition, exit 4)', () => {
    const states = formedCluster()
    states[5].unreachable = true
    expect(failureOf(() => planDrill(topologyOf(states)))).toBeInstanceOf(PreconditionError)
  })

  it('refuses --pod naming a replica (usage, exit 2)', () => {
    expect(failureOf(() => planDrill(topologyOf(formedCluster()), 'redis-3'))).toBeInstanceOf(UsageError)
  })

  it('refuses --pod naming a master whose replica is not in sync: deleting it would be an outage', () => {
    const states = formedCluster()
    states[3].replication = 'syncing'
    expect(failureOf(() => planDrill(topologyOf(states), 'redis-0')).message).toContain('No replica of redis-0 is in sync')
  })
})

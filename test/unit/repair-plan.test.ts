import {describe, expect, it} from 'vitest'

import {buildTopology} from '../../src/topology/model.js'
import {type ActionOf, describeAction, type KeyHolders, planRepair, spread} from '../../src/topology/repair-plan.js'
import {formedCluster, masterLostWithItsVolume, type NodeState, nodeId, observe, pod} from '../support/observations.js'

const plan = (states: NodeState[], keyHolders?: KeyHolders) => planRepair(buildTopology(states.map((s) => s.pod), observe(states)), keyHolders)
const kinds = (states: NodeState[], keyHolders?: KeyHolders): string[] => plan(states, keyHolders).actions.map((a) => a.kind)

/** Every node of the cluster knows the others at the addresses their pods had before they all restarted. */
function restartedWithNewIps(states: NodeState[]): NodeState[] {
  for (const s of states) s.seesAt = Object.fromEntries(states.filter((o) => o !== s).map((o) => [o.id, `10.9.0.${o.pod.ordinal + 1}:6379`]))
  return states
}

/** 3 masters without replicas (redis-0..2 on k8s nodes a, b, c) plus the given extra pods. */
function mastersOnly(extra: Array<Omit<NodeState, 'knows'>> = []): NodeState[] {
  const slots = ['0-5460', '5461-10922', '10923-16383']
  const masters: NodeState[] = ['a', 'b', 'c'].map((node, i) => ({pod: pod(i, node, `zone-${node}`), id: nodeId(`m${i}`), slots: slots[i], epoch: i + 1, knows: 'all'}))
  return [...masters, ...extra.map((e) => ({...e, knows: 'all' as const}))]
}

describe('planning a repair', () => {
  it('plans nothing for a healthy cluster', () => {
    expect(plan(formedCluster())).toEqual({actions: [], refusals: []})
  })

  it('turns replica migration back on, in one action, on every node where it is off', () => {
    const states = formedCluster()
    states[0].replicaMigration = false
    states[3].replicaMigration = false
    expect(plan(states).actions).toEqual([{kind: 'allow-replica-migration', pods: ['redis-0', 'redis-3'], addresses: [
      {host: '10.0.0.1', port: 6379, pod: 'redis-0'}, {host: '10.0.0.4', port: 6379, pod: 'redis-3'},
    ]}])
  })

  it('has every pair of nodes that hold each other at old IPs meet once, at the pods\' current addresses', () => {
    const meets = plan(restartedWithNewIps(formedCluster())).actions as ActionOf<'meet'>[]
    expect(meets).toHaveLength(15)
    expect(new Set(meets.map((m) => [m.pod, m.peer].sort().join('|'))).size).toBe(15)
    expect(meets.every((m) => m.peerAddress.host.startsWith('10.0.0.'))).toBe(true)
  })

  it('introduces an empty pod outside the cluster, but not one that holds keys', () => {
    const states = formedCluster()
    for (const s of states) s.knows = states.map((o) => o.id).filter((id) => id !== s.id)
    states.push({pod: pod(6), id: nodeId('empty')}, {pod: pod(7), id: nodeId('full'), keys: 10})
    const meets = plan(states).actions as ActionOf<'meet'>[]
    expect(meets.map((m) => [m.peer, m.reason])).toEqual([['redis-6', 'not-in-cluster']])
  })

  it('forgets a cluster node no pod answers for when it owns no slots', () => {
    const states = formedCluster()
    for (const s of states) s.strangers = [{id: nodeId('gone'), address: '10.0.9.9:6379', flags: 'master,fail'}]
    expect(plan(states).actions).toEqual([{kind: 'forget', id: nodeId('gone'), address: {host: '10.0.9.9', port: 6379}}])
  })

  it('never forgets a node that owns slots: waits for its replica to take over, else refuses and says what to do', () => {
    const states = formedCluster()
    for (const s of states) s.strangers = [{id: nodeId('gone'), address: '10.0.9.9:6379', slots: '0-5460', flags: 'master,fail'}]
    expect(kinds(states)).not.toContain('forget')
    const orphaned = plan(states)
    expect(orphaned.refusals).toHaveLength(1)
    expect(orphaned.refusals[0].problem).toContain('owns slots 0-5460')
    expect(orphaned.refusals[0].todo).toContain('Bring its pod back')

    states.push({pod: pod(6, 'a'), id: nodeId('follower'), replicaOf: nodeId('gone'), knows: 'all'})
    expect(kinds(states)).toEqual(['await-failover'])
  })

  it('forgets nothing while a pod does not answer: it could be the node behind the unknown id', () => {
    const states = formedCluster()
    for (const s of states) s.strangers = [{id: nodeId('gone'), address: '10.0.9.9:6379', flags: 'master,fail'}]
    states[5].unreachable = true
    const result = plan(states)
    expect(result.actions.map((a) => a.kind)).not.toContain('forget')
    expect(result.refusals[0].problem).toContain('redis-5 did not answer')
  })

  it('refuses, naming the pod and what to do, when a replica\'s Redis does not answer and nothing else is wrong', () => {
    const states = formedCluster()
    states[4].unreachable = true
    const result = plan(states)
    expect(result.actions).toEqual([])
    expect(result.refusals).toHaveLength(1)
    expect(result.refusals[0].problem).toContain('redis-4 did not answer')
    expect(result.refusals[0].todo).toContain('kubectl delete pod redis-4')
  })

  it('closes open slots, but not while a master does not answer', () => {
    const states = formedCluster()
    states[0].migrating = [{slot: 7, to: nodeId('n1')}]
    expect(plan(states).actions).toEqual([{kind: 'close-open-slots', slots: [7]}])
    states[2].unreachable = true
    expect(kinds(states)).not.toContain('close-open-slots')
  })

  it('gives an uncovered slot to the master holding its keys, and spreads keyless ones over the masters with fewest slots', () => {
    const states = mastersOnly()
    states[0].slots = '0-5000'
    states[1].slots = '5461-10922'
    const holders = new Map([[5001, [nodeId('m1')]]])
    const assigns = plan(states, holders).actions as ActionOf<'assign-slots'>[]
    expect(assigns).toEqual([
      expect.objectContaining({pod: 'redis-1', slots: [{start: 5001, end: 5001}], because: 'holds-keys'}),
      expect.objectContaining({pod: 'redis-0', slots: [{start: 5002, end: 5460}], because: 'spread'}),
    ])
  })

  it('refuses an uncovered slot whose keys sit on several masters, naming them', () => {
    const states = mastersOnly()
    states[0].slots = '0-5000'
    const result = plan(states, new Map([[5001, [nodeId('m0'), nodeId('m1')]]]))
    expect(result.refusals[0].problem).toBe('Uncovered slots 5001 have keys on several masters (redis-0, redis-1).')
    expect(result.actions.flatMap((a) => (a.kind === 'assign-slots' ? a.slots : []))).not.toContainEqual({start: 5001, end: 5001})
  })

  it('does not treat the slots of a pod that does not answer as uncovered', () => {
    const states = formedCluster()
    states[1].unreachable = true
    const result = plan(states)
    expect(result.actions.map((a) => a.kind)).not.toContain('assign-slots')
  })

  it('gives a master without a replica an empty master on another Kubernetes node', () => {
    const states = mastersOnly([{pod: pod(3, 'a', 'zone-a'), id: nodeId('s3')}, {pod: pod(4, 'c', 'zone-c'), id: nodeId('s4')}])
    const replicates = (plan(states).actions as ActionOf<'replicate'>[]).map((r) => [r.pod, r.master, r.was, r.sameNode])
    // Two spares for three orphans: the first two orphans take them, each away from its own node.
    expect(replicates).toEqual([['redis-4', 'redis-0', 'spare', false], ['redis-3', 'redis-1', 'spare', false]])
  })

  it('takes a replica from a master that has two when no empty master is free, never a master\'s only one', () => {
    const states = mastersOnly([
      {pod: pod(3, 'b', 'zone-b'), id: nodeId('r3'), replicaOf: nodeId('m0')},
      {pod: pod(4, 'c', 'zone-c'), id: nodeId('r4'), replicaOf: nodeId('m0')},
      {pod: pod(5, 'a', 'zone-a'), id: nodeId('r5'), replicaOf: nodeId('m1')},
    ])
    const replicates = plan(states).actions as ActionOf<'replicate'>[]
    expect(replicates.map((r) => [r.pod, r.master, r.was])).toEqual([['redis-3', 'redis-2', 'extra-replica']])
  })

  it('spreads free slots in contiguous runs so that the masters end as even as they can', () => {
    const shares = spread(Array.from({length: 100}, (_, i) => i), new Map([['x', 50], ['y', 10], ['z', 40]]))
    expect(Object.fromEntries([...shares].map(([id, s]) => [id, [s.length, s[0], s.at(-1)]]))).toEqual({y: [57, 0, 56], z: [27, 57, 83], x: [16, 84, 99]})
  })

  it('after a master lost its pod and volume: introduces the new empty pod, waits for the replica to take over, then makes the pod its replica', () => {
    const {states, lost} = masterLostWithItsVolume()
    const result = plan(states)
    expect(result.refusals).toEqual([])
    expect(result.actions.map(describeAction)).toEqual([
      'redis-1 introduces redis-0 (10.0.1.1:6379), an empty pod outside the cluster (CLUSTER MEET)',
      `wait for redis-3 to take over the slots of ${lost} at 10.0.0.1:6379, which no pod answers for, then forget it`,
      'redis-0 (an empty master) becomes a replica of redis-3, which has none (CLUSTER REPLICATE)',
    ])
  })

  it('after the replica took over from a master that lost its pod and volume: forgets the lost node and gives the new master the new pod', () => {
    const {states, lost} = masterLostWithItsVolume()
    const heir = states[3]
    delete heir.replicaOf
    heir.slots = '0-5460'
    for (const s of states.slice(1)) s.strangers = [{id: lost, address: '10.0.0.1:6379', flags: 'master,fail'}]
    expect(plan(states).actions.map((a) => [a.kind, a.kind === 'replicate' ? `${a.pod}>${a.master}` : ''])).toEqual([
      ['meet', ''], ['forget', ''], ['replicate', 'redis-0>redis-3'],
    ])
  })
})

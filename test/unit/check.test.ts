import {describe, expect, it} from 'vitest'

import {checkTopology, type FindingCode} from '../../src/topology/check.js'
import {buildTopology} from '../../src/topology/model.js'
import {formedCluster, masterLostWithItsVolume, type NodeState, nodeId, observe, pod} from '../support/observations.js'

const check = (states: NodeState[], pods = states.map((s) => s.pod)) => checkTopology(buildTopology(pods, observe(states)))
const codes = (states: NodeState[], pods?: Parameters<typeof check>[1]): FindingCode[] => check(states, pods).map((f) => f.code)

describe('checking a cluster', () => {
  it('finds nothing wrong with a healthy cluster spread over Kubernetes nodes', () => {
    expect(check(formedCluster())).toEqual([])
  })

  it('reports a pod whose Redis does not answer, as an error', () => {
    const states = formedCluster()
    states[2].unreachable = true
    const finding = check(states).find((f) => f.code === 'unreachable')
    expect(finding).toMatchObject({severity: 'error', pods: ['redis-2']})
  })

  it('reports pods that were never formed into a cluster', () => {
    const states = Array.from({length: 3}, (_, i) => ({pod: pod(i), id: nodeId(`n${i}`)}))
    expect(check(states)).toEqual([expect.objectContaining({code: 'not-formed', severity: 'error'})])
  })

  it('reports a pod that is not part of the cluster', () => {
    const states = formedCluster()
    for (const s of states) s.knows = states.map((o) => o.id).filter((id) => id !== s.id)
    states.push({pod: pod(6), id: nodeId('n6')})
    expect(check(states).find((f) => f.code === 'pod-not-in-cluster')).toMatchObject({severity: 'warning', pods: ['redis-6']})
  })

  it('reports a pod outside the cluster only as outside, not as disagreeing or failing (it sees no slots and says fail)', () => {
    const states = formedCluster()
    for (const s of states) s.knows = states.map((o) => o.id).filter((id) => id !== s.id)
    states.push({pod: pod(6), id: nodeId('n6'), state: 'fail'})
    expect(codes(states)).toEqual(['pod-not-in-cluster'])
  })

  it('reports a cluster node that no pod answers for, as an error when it owns slots', () => {
    const states = formedCluster()
    for (const s of states) s.strangers = [{id: nodeId('gone'), address: '10.0.9.9:6379', slots: '100-200', flags: 'master,fail'}]
    const stale = check(states).find((f) => f.code === 'node-without-pod')
    expect(stale?.severity).toBe('error')
    expect(stale?.message).toContain('10.0.9.9:6379')
  })

  it('reports pods that other nodes still know at their old IPs, as an error, before any node is suspected', () => {
    const states = formedCluster()
    for (const s of states) s.seesAt = Object.fromEntries(states.filter((o) => o !== s).map((o) => [o.id, `10.1.0.${o.pod.ordinal + 1}:6379`]))
    const stale = check(states).find((f) => f.code === 'stale-address')
    expect(stale).toMatchObject({severity: 'error', pods: states.map((s) => s.pod.pod)})
    expect(stale?.message).toContain('6 nodes')
  })

  it('warns about nodes left with replica migration off, naming them', () => {
    const states = formedCluster()
    states[1].replicaMigration = false
    states[4].replicaMigration = false
    expect(check(states)).toEqual([expect.objectContaining({code: 'replica-migration-off', severity: 'warning', pods: ['redis-1', 'redis-4']})])
  })

  it('warns about nodes left running a shorter cluster-node-timeout than their redis.conf, naming them', () => {
    const states = formedCluster()
    states[0].nodeTimeoutMs = 1000
    states[3].nodeTimeoutMs = 1000
    const findings = checkTopology(buildTopology(states.map((s) => s.pod), observe(states)), {configuredNodeTimeoutMs: 5000})
    expect(findings).toEqual([expect.objectContaining({code: 'node-timeout-lowered', severity: 'warning', pods: ['redis-0', 'redis-3']})])
    expect(findings[0].message).toContain('CONFIG SET cluster-node-timeout 5000')
  })

  it('compares cluster-node-timeout with nothing when the redis.conf could not be read', () => {
    const states = formedCluster()
    states[0].nodeTimeoutMs = 1000
    expect(check(states)).toEqual([])
  })

  it('reports failed nodes as errors and suspected ones as warnings', () => {
    const states = formedCluster()
    states[0].sees = {[nodeId('n1')]: 'fail?'}
    states[2].sees = {[nodeId('n5')]: 'fail'}
    const findings = check(states)
    expect(findings.find((f) => f.code === 'node-suspected')).toMatchObject({severity: 'warning', pods: ['redis-1']})
    expect(findings.find((f) => f.code === 'node-failed')).toMatchObject({severity: 'error', pods: ['redis-5']})
  })

  it('reports nodes without an address and nodes still in handshake', () => {
    const states = formedCluster()
    states[0].sees = {[nodeId('n1')]: 'noaddr'}
    states[1].strangers = [{id: nodeId('hs'), address: '10.0.0.1:6379', flags: 'handshake'}]
    expect(codes(states)).toEqual(expect.arrayContaining(['node-noaddr', 'node-handshake']))
  })

  it('reports nodes that disagree about who owns which slots', () => {
    const states = formedCluster()
    states[3].seesSlots = {[nodeId('n0')]: '0-5000'}
    expect(codes(states)).toContain('config-disagreement')
  })

  it('reports slots claimed by two masters', () => {
    const states = formedCluster()
    states[1].slots = '5000-10922'
    expect(codes(states)).toContain('slot-conflict')
  })

  it('reports slots that no master covers', () => {
    const states = formedCluster()
    states[2].slots = '11000-16383'
    expect(check(states).find((f) => f.code === 'slots-uncovered')?.message).toContain('77 of 16384 slots have no owner: 10923-10999')
  })

  it('reports open slots left by an interrupted migration', () => {
    const states = formedCluster()
    states[0].migrating = [{slot: 100, to: nodeId('n1')}]
    expect(check(states).find((f) => f.code === 'open-slots')).toMatchObject({severity: 'error', pods: ['redis-0']})
  })

  it('reports nodes that say cluster_state:fail', () => {
    const states = formedCluster()
    states[4].state = 'fail'
    expect(check(states).find((f) => f.code === 'cluster-state-fail')?.pods).toEqual(['redis-4'])
  })

  it('warns about a master without a replica', () => {
    const states = formedCluster()
    delete states[5].replicaOf
    expect(check(states).find((f) => f.code === 'master-without-replica')).toMatchObject({severity: 'warning', pods: ['redis-2']})
  })

  it('warns when a master and its replica share a Kubernetes node', () => {
    const states = formedCluster()
    states[3].pod = {...states[3].pod, k8sNode: 'a'}
    expect(check(states).find((f) => f.code === 'same-node')).toMatchObject({severity: 'warning', pods: ['redis-0', 'redis-3']})
  })

  it('warns when so many masters share a Kubernetes node that losing it leaves too few to vote their replicas in', () => {
    const states = formedCluster()
    states[1].pod = {...states[1].pod, k8sNode: 'a'}
    const crowded = check(states).find((f) => f.code === 'masters-on-one-node')
    expect(crowded).toMatchObject({severity: 'warning', pods: ['redis-0', 'redis-1']})
    expect(crowded?.message).toContain('2 of the 3 masters run on Kubernetes node a:')
  })

  it('advises the failover that spreads crowded masters: --to a replica on a Kubernetes node without a master, each pod named once', () => {
    // Masters redis-0 and redis-1 on a, redis-2 on c; redis-3 (replica of redis-0) on b, which holds no master, and
    // redis-4 (replica of redis-1) on c beside redis-2: failing redis-1 over would only move the crowding to c.
    const states = formedCluster()
    states[1].pod = {...states[1].pod, k8sNode: 'a'}
    const {message} = check(states).find((f) => f.code === 'masters-on-one-node')!
    expect(message).toContain('redisctl failover redis-0 --to redis-3 moves one onto b, which holds no master.')
    expect(message).not.toContain('redis-1')
  })

  it('advises no failover when no replica of the crowded masters runs on another Kubernetes node', () => {
    const states = formedCluster()
    states[1].pod = {...states[1].pod, k8sNode: 'a'}
    states[3].pod = {...states[3].pod, k8sNode: 'a'}
    states[4].pod = {...states[4].pod, k8sNode: 'a'}
    states[5].pod = {...states[5].pod, k8sNode: 'b'}
    const {message} = check(states).find((f) => f.code === 'masters-on-one-node')!
    expect(message).toContain('no failover can spread them')
    expect(message).not.toContain('redisctl failover')
  })

  it('warns when no spread keeps a majority but one Kubernetes node holds more masters than an even spread would (3 of 4 on 3 nodes)', () => {
    const states = formedCluster()
    states[2].slots = '10923-15999'
    states.push({pod: pod(6, 'a'), id: nodeId('n6'), slots: '16000-16383', epoch: 4, knows: 'all'})
    states[1].pod = {...states[1].pod, k8sNode: 'a'}
    const crowded = check(states).find((f) => f.code === 'masters-on-one-node')
    expect(crowded?.pods).toEqual(['redis-0', 'redis-1', 'redis-6'])
    expect(crowded?.message).toContain('3 of the 4 masters run on Kubernetes node a:')
    expect(crowded?.message).toContain('an even one puts at most 2 on a node')
  })

  it('does not warn when no spread keeps a majority and the masters are spread evenly (2 of 4 on 3 nodes)', () => {
    const states = formedCluster()
    states[2].slots = '10923-15999'
    states.push({pod: pod(6, 'a'), id: nodeId('n6'), slots: '16000-16383', epoch: 4, knows: 'all'})
    expect(check(states).map((f) => f.code)).not.toContain('masters-on-one-node')
  })

  it('does not warn about masters sharing a Kubernetes node when the pods\' nodes are too few to spread them', () => {
    const states = formedCluster()
    for (const s of states) s.pod = {...s.pod, k8sNode: 'a'}
    expect(check(states).map((f) => f.code)).not.toContain('masters-on-one-node')
  })

  it('warns when a master and its replica share a zone, on different nodes', () => {
    const states = formedCluster()
    states[0].pod = {...states[0].pod, zone: 'z1'}
    states[3].pod = {...states[3].pod, zone: 'z1'}
    expect(codes(states)).toEqual(['same-zone'])
  })

  it('warns when a master holds more than 2% over or under an even share of slots', () => {
    const states = formedCluster()
    states[0].slots = '0-5000'
    states[1].slots = '5001-10922'
    expect(check(states).find((f) => f.code === 'slots-unbalanced')?.pods).toEqual(['redis-0', 'redis-1'])
  })

  it('warns about masters sharing a config epoch', () => {
    const states = formedCluster()
    states[1].epoch = 1
    expect(codes(states)).toContain('epoch-collision')
  })

  it('names a master that lost its pod and volume as a node no pod answers for, owner of slots no pod serves; never as a stale address or slots without owner', () => {
    const {states, lost} = masterLostWithItsVolume()
    const findings = check(states)
    expect(findings.map((f) => f.code)).not.toContain('slots-uncovered')
    expect(findings.map((f) => f.code)).not.toContain('stale-address')
    expect(findings.map((f) => f.message).join(' ')).not.toMatch(/stale address/i)
    expect(findings.find((f) => f.code === 'node-without-pod')).toMatchObject({severity: 'error', message: expect.stringContaining(
      `node ${lost} at 10.0.0.1:6379, which no pod answers for: its pod is gone, or came back without its data as a new node. It owns 5461 slots (0-5460), which no pod serves`)})
    expect(findings.find((f) => f.code === 'pod-not-in-cluster')?.pods).toEqual(['redis-0'])
  })

  it('tells a replica in its first sync (warning replica-syncing) from one whose link is down (warning replica-link-down)', () => {
    const states = formedCluster()
    states[3].replication = 'syncing'
    states[4].replication = 'link-down'
    expect(check(states).map((f) => [f.code, f.severity, f.pods])).toEqual([
      ['replica-syncing', 'warning', ['redis-3', 'redis-0']],
      ['replica-link-down', 'warning', ['redis-4', 'redis-1']],
    ])
  })

  it('says nothing about a replica a few bytes behind its master: under writes that is normal', () => {
    const states = formedCluster()
    states[3].replication = 120
    expect(check(states)).toEqual([])
  })

  it('warns about a master in the cluster that owns no slots, pointing at --use-empty-masters', () => {
    const states = formedCluster()
    states.push({pod: pod(6, 'b'), id: nodeId('n6'), knows: 'all'})
    for (const s of states) s.knows = 'all'
    const finding = check(states).find((f) => f.code === 'master-without-slots')
    expect(finding).toMatchObject({severity: 'warning', pods: ['redis-6']})
    expect(finding?.message).toContain('redisctl slots rebalance --use-empty-masters')
  })

  it('says what the nodes that answered know of a pod that did not, and lists it once', () => {
    const states = formedCluster()
    states[1].unreachable = true
    const findings = check(states)
    expect(findings.find((f) => f.code === 'unreachable')?.message).toContain('the nodes that answered know it as a master of 5462 slots (5461-10922)')
    expect(findings.map((f) => f.code)).not.toContain('node-without-pod')
    expect(findings.map((f) => f.code)).not.toContain('slots-uncovered')
  })

  it('with no node answering reports each pod unreachable and claims no agreement', () => {
    const states = formedCluster()
    for (const s of states) s.unreachable = true
    expect(codes(states)).toEqual(Array(6).fill('unreachable'))
  })
})

import {describe, expect, it} from 'vitest'

import {RedisUnreachableError} from '../../src/errors.js'
import {buildTopology} from '../../src/topology/model.js'
import {summarizeObservation} from '../../src/topology/observation.js'
import {describeAgreement, nodeStatuses, requireSomeAnswer, summarize} from '../../src/topology/status.js'
import {formedCluster, type NodeState, nodeId, observe, pod} from '../support/observations.js'

const topologyOf = (states: NodeState[]) => buildTopology(states.map((s) => s.pod), observe(states))
const agreementLine = (states: NodeState[]): string => describeAgreement(summarize(topologyOf(states)))

describe('what status says about the whole cluster', () => {
  it('claims agreement by every node only when every node answered and agrees', () => {
    expect(agreementLine(formedCluster())).toBe('slot map agreed by all 6 nodes')
  })

  it('counts agreement over the nodes that answered and names the one that did not', () => {
    const states = formedCluster()
    states[3].unreachable = true
    expect(agreementLine(states)).toBe('slot map agreed by 5 of 6 nodes; redis-3 did not answer')
  })

  it('with a selector matching some of the pods, says the nodes without a selected pod were not asked, not that they did not answer', () => {
    const states = formedCluster()
    // Only the selected pod is asked; its view lists every node of the cluster.
    const topology = buildTopology([states[0].pod], summarizeObservation(observe(states).nodes.slice(0, 1)))
    expect(summarize(topology)).toMatchObject({nodes: 6, silent: [], withoutPod: expect.arrayContaining([expect.stringContaining('no pod')])})
    expect(describeAgreement(summarize(topology))).toBe('slot map agreed by 1 of 6 nodes; 5 nodes the cluster lists have no pod among those selected (not asked)')
  })

  it('says the slot map is not agreed, with how many of the nodes that answered share one', () => {
    const states = formedCluster()
    states[3].seesSlots = {[nodeId('n0')]: '0-5000'}
    expect(agreementLine(states)).toBe('slot map NOT agreed: 5 of the 6 nodes that answered share one')
  })

  it('with no node answering claims nothing, and status stops with exit 7 naming every pod', () => {
    const states = formedCluster()
    for (const s of states) s.unreachable = true
    const topology = topologyOf(states)
    expect(summarize(topology)).toMatchObject({clusterState: 'unknown', answered: 0, slotsAgreed: false})
    expect(describeAgreement(summarize(topology))).toBe('no node of the cluster answered (redis-0, redis-1, redis-2 and 3 more), so nothing is known of the slot map')
    expect(() => requireSomeAnswer(topology)).toThrow(RedisUnreachableError)
    expect(() => requireSomeAnswer(topology)).toThrow(/No Redis node answered.*redis-5 \(10\.0\.0\.6:6379\)/)
  })

  it('shows a pod outside the cluster as outside: no role, no cluster link', () => {
    const states = formedCluster()
    for (const s of states) s.knows = states.map((o) => o.id).filter((id) => id !== s.id)
    states.push({pod: pod(6), id: nodeId('n6')})
    const outsider = nodeStatuses(topologyOf(states)).find((n) => n.pod === 'redis-6')
    expect(outsider).toMatchObject({membership: 'outside-cluster', role: undefined, link: undefined, reachable: true})
    expect(summarize(topologyOf(states)).outside).toEqual(['redis-6'])
  })

  it('shows a replica in its first sync as syncing, and one in sync as in sync', () => {
    const states = formedCluster()
    states[4].replication = 'syncing'
    const rows = nodeStatuses(topologyOf(states))
    expect(rows.find((n) => n.pod === 'redis-4')?.sync).toEqual({state: 'syncing'})
    expect(rows.find((n) => n.pod === 'redis-3')?.sync).toEqual({state: 'in-sync'})
    expect(rows.find((n) => n.pod === 'redis-0')?.sync).toBeUndefined()
  })
})

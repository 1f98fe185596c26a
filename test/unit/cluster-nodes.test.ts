import {describe, expect, it} from 'vitest'

import {BugError} from '../../src/errors.js'
import {parseClusterInfo, parseClusterNodes} from '../../src/redis/cluster-nodes.js'
import {isTentative} from '../../src/topology/observation.js'

// Captured from redis-server 7.0.15 (Debian): a cluster formed by redis-cli --cluster create, 3 masters x 1 replica.
const FORMED = `013f947f468b161d98b8cb74d1f7d20d48a3b0b8 127.199.7.2:6379@16379 master - 0 1795426965000 2 connected 5461-10922
467d21772e54a25382b87c0a8a0367e80c5ce3ba 127.199.7.6:6379@16379 slave 013f947f468b161d98b8cb74d1f7d20d48a3b0b8 0 1795426966259 2 connected
c365b6c254f7b5db708bc621f9aacc4a29030eb8 127.199.7.5:6379@16379 slave 02d2e5b285f65a733c52869811a12030f96f44f3 0 1795426965756 1 connected
e7c198f388969c383628114aaa196f8e0497998e 127.199.7.4:6379@16379 slave cb4157635ff550b887b63d6cd917bbbfa7bc2e2a 0 1795426966762 3 connected
cb4157635ff550b887b63d6cd917bbbfa7bc2e2a 127.199.7.3:6379@16379 master - 0 1795426966560 3 connected 10923-16383
02d2e5b285f65a733c52869811a12030f96f44f3 127.199.7.1:6379@16379 myself,master - 0 1795426965000 1 connected 0-5460
`

describe('parsing CLUSTER NODES', () => {
  it('reads every node of a formed cluster with its role, master, epoch, link and slots', () => {
    const nodes = parseClusterNodes(FORMED)
    expect(nodes).toHaveLength(6)
    expect(nodes[5]).toEqual({
      id: '02d2e5b285f65a733c52869811a12030f96f44f3', host: '127.199.7.1', port: 6379, busPort: 16379,
      flags: ['myself', 'master'], myself: true, role: 'master', masterId: undefined,
      pingSentMs: 0, pongReceivedMs: 1795426965000, configEpoch: 1, linkState: 'connected',
      slots: [{start: 0, end: 5460}], migrating: [], importing: [],
    })
    expect(nodes[1]).toMatchObject({role: 'replica', masterId: '013f947f468b161d98b8cb74d1f7d20d48a3b0b8', myself: false, slots: []})
  })

  it('reads a fresh node that does not know its own address yet', () => {
    const [node] = parseClusterNodes('02d2e5b285f65a733c52869811a12030f96f44f3 :6379@16379 myself,master - 0 0 0 connected\n')
    expect(node).toMatchObject({host: '', port: 6379, busPort: 16379, configEpoch: 0, slots: []})
  })

  it('reads single slots and ranges mixed', () => {
    const [node] = parseClusterNodes('46de6016c45974853a572d62a4d899cc7cda7780 :6379@16379 myself,master - 0 0 4 connected 5 7-9 100-200 300 16383')
    expect(node.slots).toEqual([{start: 5, end: 5}, {start: 7, end: 9}, {start: 100, end: 200}, {start: 300, end: 300}, {start: 16383, end: 16383}])
  })

  it('reads migrating and importing slots apart from owned slots', () => {
    const source = parseClusterNodes('02d2e5b285f65a733c52869811a12030f96f44f3 127.199.7.1:6379@16379 myself,master - 0 1795426965000 1 connected 0-5460 [100->-013f947f468b161d98b8cb74d1f7d20d48a3b0b8] [101->-013f947f468b161d98b8cb74d1f7d20d48a3b0b8]')[0]
    const target = parseClusterNodes('013f947f468b161d98b8cb74d1f7d20d48a3b0b8 127.199.7.2:6379@16379 myself,master - 0 1795426965000 2 connected 5461-10922 [100-<-02d2e5b285f65a733c52869811a12030f96f44f3]')[0]
    expect(source.slots).toEqual([{start: 0, end: 5460}])
    expect(source.migrating).toEqual([{slot: 100, to: '013f947f468b161d98b8cb74d1f7d20d48a3b0b8'}, {slot: 101, to: '013f947f468b161d98b8cb74d1f7d20d48a3b0b8'}])
    expect(target.importing).toEqual([{slot: 100, from: '02d2e5b285f65a733c52869811a12030f96f44f3'}])
  })

  it('reads a failed replica with its link down', () => {
    const [node] = parseClusterNodes('467d21772e54a25382b87c0a8a0367e80c5ce3ba 127.199.7.6:6379@16379 slave,fail 013f947f468b161d98b8cb74d1f7d20d48a3b0b8 1795426970793 1795426968778 2 disconnected')
    expect(node).toMatchObject({flags: ['slave', 'fail'], linkState: 'disconnected', pingSentMs: 1795426970793})
  })

  it('reads a suspected (fail?) node', () => {
    const [node] = parseClusterNodes('467d21772e54a25382b87c0a8a0367e80c5ce3ba 127.199.7.6:6379@16379 master,fail? - 1795426970793 1795426968778 2 connected 0-100')
    expect(node.flags).toEqual(['master', 'fail?'])
  })

  it('treats handshake and noaddr nodes as not really known yet', () => {
    const [handshake, noaddr] = parseClusterNodes([
      '04023697a354e99e3b97f84aedcf0d55752dd81d 127.199.7.99:6379@16379 handshake - 0 0 0 disconnected',
      '6a0b8c1f5e2d4b3a9c7e8f1d2b3c4a5e6f7d8c9b :0@0 master,noaddr - 1795426970793 1795426968778 5 disconnected',
    ].join('\n'))
    expect(isTentative(handshake)).toBe(true)
    expect(noaddr).toMatchObject({host: '', port: 0, busPort: 0})
    expect(isTentative(noaddr)).toBe(true)
  })

  it('reads the announced hostname after the bus port', () => {
    const [node] = parseClusterNodes('013f947f468b161d98b8cb74d1f7d20d48a3b0b8 127.199.7.2:6379@16379,redis-1.example myself,master - 0 1795426975000 2 connected 5461-10922')
    expect(node).toMatchObject({host: '127.199.7.2', port: 6379, busPort: 16379, hostname: 'redis-1.example'})
  })

  it('reads IPv6 addresses', () => {
    const [node] = parseClusterNodes('013f947f468b161d98b8cb74d1f7d20d48a3b0b8 fd00::12:6379@16379 master,nofailover - 0 0 2 connected')
    expect(node).toMatchObject({host: 'fd00::12', port: 6379, flags: ['master', 'nofailover']})
  })

  it('rejects a line it cannot understand as a bug, not silently', () => {
    expect(() => parseClusterNodes('garbage')).toThrow(BugError)
    expect(() => parseClusterNodes('013f947f468b161d98b8cb74d1f7d20d48a3b0b8 127.0.0.1:6379@16379 master - 0 0 2 connected 5-x')).toThrow(BugError)
  })
})

describe('parsing CLUSTER INFO', () => {
  it('reads state, slot counts and epochs', () => {
    const info = parseClusterInfo('cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:7\r\ncluster_size:3\r\ncluster_current_epoch:6\r\ncluster_my_epoch:1\r\ncluster_stats_messages_sent:57\r\n')
    expect(info).toEqual({state: 'ok', slotsAssigned: 16384, slotsOk: 16384, slotsPfail: 0, slotsFail: 0, knownNodes: 7, size: 3, currentEpoch: 6, myEpoch: 1})
  })
})

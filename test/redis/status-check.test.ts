import {afterEach, describe, expect, it} from 'vitest'

import {ExitCode, type RedisctlError} from '../../src/errors.js'
import {RedisConnector} from '../../src/redis/connection.js'
import {observeCluster} from '../../src/redis/observe.js'
import {checkTopology} from '../../src/topology/check.js'
import {buildTopology, type PodRef, type Topology} from '../../src/topology/model.js'
import {describeAgreement, nodeStatuses, requireSomeAnswer, summarize} from '../../src/topology/status.js'
import {fillEverySlot, startTestCluster, testPods, type TestCluster} from '../support/form-for-tests.js'

let c: TestCluster | undefined
const connector = new RedisConnector({connectTimeoutMs: 1000})

afterEach(async () => {
  await connector.closeAll()
  await c?.stop()
  c = undefined
})

/** What status and check read: the pods joined with every node's answer. */
const inspect = async (pods: PodRef[]): Promise<Topology> => buildTopology(pods, await observeCluster(connector, pods.map((p) => ({host: p.ip, port: p.port}))))

describe('status and check against real redis-server nodes', () => {
  it('status with every redis-server stopped exits 7 and claims no agreement; check finds every pod unreachable (exit 10)', async () => {
    c = await startTestCluster({masters: 3, replicasOf: [0, 1, 2]})
    const pods = testPods(c.servers)
    c.clients.forEach((client) => client.disconnect())
    await c.servers.stop()

    const topology = await inspect(pods)

    const summary = summarize(topology)
    expect(summary).toMatchObject({clusterState: 'unknown', answered: 0, slotsAgreed: false})
    expect(describeAgreement(summary)).not.toMatch(/agreed by/)
    let refused: RedisctlError | undefined
    try {
      requireSomeAnswer(topology)
    } catch (error) {
      refused = error as RedisctlError
    }
    expect(refused?.exitCode).toBe(ExitCode.redisUnreachable)
    expect(refused?.message).toContain('No Redis node answered')
    const findings = checkTopology(topology)
    expect(findings.map((f) => [f.code, f.severity])).toEqual(Array(6).fill(['unreachable', 'error']))
  }, 60_000)

  it('status with one redis-server stopped counts agreement over the 5 that answered and shows what they know of it', async () => {
    c = await startTestCluster({masters: 3, replicasOf: [0, 1, 2]})
    const pods = testPods(c.servers)
    c.clients[1].disconnect()
    c.servers.nodes[1].process.kill('SIGKILL')

    const topology = await inspect(pods)

    expect(describeAgreement(summarize(topology))).toBe('slot map agreed by 5 of 6 nodes; node-1 did not answer')
    expect(nodeStatuses(topology).find((n) => n.pod === 'node-1')).toMatchObject({membership: 'did-not-answer', role: 'master', slotCount: 5462})
    expect(topology.nodes).toHaveLength(6)
    expect(checkTopology(topology).map((f) => f.code)).not.toContain('slots-uncovered')
  }, 60_000)

  it('status shows a replica attached to a master with data as syncing until its first sync is done, then in sync; check warns replica-syncing meanwhile', async () => {
    c = await startTestCluster({masters: 3, emptyMasters: 1})
    await fillEverySlot(c, 5_000)
    const pods = testPods(c.servers)
    const [master] = c.masters
    // By hand, as a command that returned before the sync would leave it: Redis 7.0 starts a diskless sync 5 s later.
    await c.clients[3].call('CLUSTER', 'REPLICATE', master.id)

    const seen: string[] = []
    for (let done = false; !done;) {
      const topology = await inspect(pods)
      const sync = nodeStatuses(topology).find((n) => n.pod === 'node-3')?.sync?.state
      if (sync && seen.at(-1) !== sync) seen.push(sync)
      if (sync === 'syncing') expect(checkTopology(topology).find((f) => f.code === 'replica-syncing')?.pods).toEqual(['node-3', 'node-0'])
      done = sync === 'in-sync'
      if (!done) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(seen).toContain('syncing')
    expect(seen.at(-1)).toBe('in-sync')
  }, 60_000)
})

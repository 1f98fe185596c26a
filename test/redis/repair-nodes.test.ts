import {afterEach, describe, expect, it} from 'vitest'

import type {ActionOf} from '../../src/topology/repair-plan.js'
import {fillEverySlot, missingOrWrong, redisCliCheck, startTestCluster, testPods, type TestCluster} from '../support/form-for-tests.js'
import {checkTopology} from '../../src/topology/check.js'
import {describeAction} from '../../src/topology/repair-plan.js'
import {newRepairContext, observeAndPlan} from '../../src/workflows/repair.js'
import {replaceWithEmptyNode, restartAtNewAddresses} from '../support/redis-nodes.js'
import {checkErrors, repairTarget, runRepair} from '../support/repair-cluster.js'

let c: TestCluster | undefined

afterEach(async () => {
  await c?.stop()
  c = undefined
})

async function nodeIds(cluster: TestCluster): Promise<string[]> {
  const target = repairTarget(testPods(cluster.servers))
  try {
    return (await target.observe()).nodes.map((n) => n.id!).sort()
  } finally {
    await target.access.close()
  }
}

/** Which master each node follows, by pod name, as the cluster sees it now. */
async function replicaOf(cluster: TestCluster): Promise<Record<string, string>> {
  const target = repairTarget(testPods(cluster.servers))
  try {
    const topology = await target.observe()
    const podOf = new Map(topology.nodes.map((n) => [n.id, n.pod?.pod]))
    return Object.fromEntries(topology.nodes.filter((n) => n.role === 'replica').map((n) => [n.pod!.pod, podOf.get(n.masterId)!]))
  } finally {
    await target.access.close()
  }
}

describe('redisctl repair on nodes', () => {
  it('makes an empty master in the cluster the replica of a master that has none, keys kept', async () => {
    c = await startTestCluster({masters: 3, emptyMasters: 1})
    const data = await fillEverySlot(c, 20_000)

    const ctx = await runRepair(testPods(c.servers))

    expect(ctx.done).toEqual([expect.objectContaining({kind: 'replicate', pod: 'node-3', was: 'spare'})])
    const master = (ctx.done[0] as ActionOf<'replicate'>).master
    expect(await replicaOf(c)).toEqual({'node-3': master})
    expect(await checkErrors(testPods(c.servers))).toEqual([])
    expect(await missingOrWrong(c, data)).toEqual([])
  })

  it('moves an extra replica to a master that has none, never a master\'s only replica', async () => {
    // node-3 and node-4 follow node-0, node-5 follows node-1, node-2 has none.
    c = await startTestCluster({masters: 3, replicasOf: [0, 0, 1]})
    const data = await fillEverySlot(c, 20_000)

    const ctx = await runRepair(testPods(c.servers))

    expect(ctx.done.map((d) => [d.kind, (d as ActionOf<'replicate'>).master, (d as ActionOf<'replicate'>).was])).toEqual([['replicate', 'node-2', 'extra-replica']])
    const followers = Object.values(await replicaOf(c)).sort()
    expect(followers).toEqual(['node-0', 'node-1', 'node-2'])
    expect(await missingOrWrong(c, data)).toEqual([])
  })

  it('reconnects a cluster whose nodes all restarted at new addresses, keeping node ids, a replica per master and every key', async () => {
    c = await startTestCluster({masters: 3, replicasOf: [0, 1, 2], extraConfig: ['appendonly yes']})
    const data = await fillEverySlot(c, 30_000)
    const idsBefore = await nodeIds(c)
    // The plain clients would keep dialling the old addresses.
    for (const client of c.clients) client.disconnect()

    await restartAtNewAddresses(c.servers)
    expect((await checkErrors(testPods(c.servers))).map((f) => f.code)).toContain('stale-address')

    const ctx = await runRepair(testPods(c.servers))

    expect(new Set(ctx.done.map((d) => d.kind))).toEqual(new Set(['meet']))
    expect(ctx.done).toHaveLength(15)
    expect(await nodeIds(c)).toEqual(idsBefore)
    expect(new Set(Object.values(await replicaOf(c))).size).toBe(3)
    expect(await checkErrors(testPods(c.servers))).toEqual([])
    expect(redisCliCheck(c).ok).toBe(true)
    expect(await missingOrWrong(c, data)).toEqual([])
  })

  it('forgets, on every node, a node whose pod is gone and which owned no slots', async () => {
    c = await startTestCluster({masters: 3, emptyMasters: 1})
    const data = await fillEverySlot(c, 20_000)
    const gone = c.masters[3]
    c.servers.nodes[3].process.kill('SIGKILL')
    c.clients[3].disconnect()
    const pods = testPods(c.servers).slice(0, 3)

    const ctx = await runRepair(pods)

    expect(ctx.done).toEqual([{kind: 'forget', id: gone.id, address: gone.address}])
    const views = await Promise.all(c.clients.slice(0, 3).map(async (client) => String(await client.call('CLUSTER', 'NODES'))))
    expect(views.filter((v) => v.includes(gone.id))).toEqual([])
    expect(await checkErrors(pods)).toEqual([])
    expect(await missingOrWrong(c, data)).toEqual([])
  })

  it('repair after a master lost pod and volume succeeds in one run and its dry run lists the REPLICATE step, every key kept', async () => {
    c = await startTestCluster({masters: 3, replicasOf: [0, 1, 2]})
    const data = await fillEverySlot(c, 20_000)
    // Every write is on the replicas before the master goes, so its replica can take over with all of them.
    await Promise.all(c.clients.slice(0, 3).map((client) => client.call('WAIT', 1, 10_000)))
    const lost = c.masters[0]
    c.clients[0].disconnect()
    await replaceWithEmptyNode(c.servers, 0)
    const pods = testPods(c.servers)

    const target = repairTarget(pods)
    const dry = newRepairContext(target, 30_000)
    try {
      await observeAndPlan(dry)
    } finally {
      await target.access.close()
    }
    const before = checkTopology(dry.topology!)
    expect(before.map((f) => f.message).join(' ')).not.toMatch(/stale address|have no owner/)
    expect(before.find((f) => f.code === 'node-without-pod')?.message).toContain(lost.id)
    expect(dry.plan!.refusals).toEqual([])
    expect(dry.plan!.actions.map(describeAction)).toEqual([
      expect.stringContaining('introduces node-0'),
      expect.stringContaining(`take over the slots of ${lost.id}`),
      'node-0 (an empty master) becomes a replica of node-3, which has none (CLUSTER REPLICATE)',
    ])

    const ctx = await runRepair(pods, 60_000)

    expect(ctx.refusals).toEqual([])
    expect(ctx.done.map(describeAction)).toEqual(dry.plan!.actions.map(describeAction))
    expect(await replicaOf(c)).toMatchObject({'node-0': 'node-3'})
    expect(await checkErrors(pods)).toEqual([])
    expect(redisCliCheck(c).ok).toBe(true)
    expect(await missingOrWrong(c, data)).toEqual([])
  }, 90_000)
})

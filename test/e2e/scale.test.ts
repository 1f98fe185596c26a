import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CheckResult} from '../../src/commands/check.js'
import {json} from '../support/cli.js'
import {
  missingKeys, redisCliCheckPasses, replicasBesideTheirMaster, slotSpreadPercent, statusNodes, startClusterWithKeys,
} from './cluster-data.js'
import type {E2eSandbox} from './e2e-support.js'

const KEYS = 100_000

describe('redisctl scale, growing, from 3x1 with 100,000 keys', () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 243, keys: KEYS})
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('to 4 masters keeps every key, passes redis-cli --cluster check and evens the slots within 1%', async () => {
    const scaled = await sandbox.cli(['scale', '--masters', '4', '--json'])
    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    expect(json<{masters: unknown[]; keysMoved: number}>(scaled).keysMoved).toBeGreaterThan(0)
    const nodes = await statusNodes(sandbox)
    expect(nodes.filter((n) => n.role === 'master')).toHaveLength(4)
    expect(nodes.filter((n) => n.role === 'replica')).toHaveLength(4)
    expect(slotSpreadPercent(nodes)).toBeLessThanOrEqual(1)
    expect(await redisCliCheckPasses(sandbox)).toBe(true)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 120_000)

  it('to 5 masters through port-forward (as from a laptop) keeps every key and replicas off their master\'s Kubernetes node', async () => {
    const scaled = await sandbox.cli(['scale', '--masters', '5', '--connect', 'port-forward'])
    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    const nodes = await statusNodes(sandbox)
    expect(nodes.filter((n) => n.role === 'master')).toHaveLength(5)
    expect(replicasBesideTheirMaster(nodes)).toEqual([])
    expect(slotSpreadPercent(nodes)).toBeLessThanOrEqual(1)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 120_000)

  it('to 2 replicas per master adds a replica to every master and returns once each is in sync (scale && check: no replica-syncing), data kept', async () => {
    const scaled = await sandbox.cli(['scale', '--masters', '5', '--replicas-per-master', '2'])
    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    const check = await sandbox.cli(['check', '--json'])
    expect(json<CheckResult>(check).findings.filter((f) => f.code === 'replica-syncing' || f.code === 'replica-link-down')).toEqual([])
    const nodes = await statusNodes(sandbox)
    const masters = nodes.filter((n) => n.role === 'master')
    for (const master of masters) expect(nodes.filter((n) => n.masterPod === master.pod), master.pod).toHaveLength(2)
    // A master's replication PING (every 10 s) puts a replica a few bytes behind for a moment: lagging, never syncing.
    for (const replica of nodes.filter((n) => n.role === 'replica')) expect(replica.sync?.state, replica.pod).toMatch(/^(in-sync|lagging)$/)
    expect(await redisCliCheckPasses(sandbox)).toBe(true)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 120_000)

  it('run again, changes nothing and exits 0', async () => {
    const again = await sandbox.cli(['scale', '--masters', '5', '--replicas-per-master', '2', '--json'])
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(json<{moves: unknown[]}>(again).moves).toEqual([])
  }, 60_000)

  it('refuses fewer than 3 masters with a usage error (2)', async () => {
    const tooFew = await sandbox.cli(['scale', '--masters', '2'])
    expect(tooFew.code).toBe(2)
  })
})

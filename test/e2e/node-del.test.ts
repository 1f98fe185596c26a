import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {StatusResult} from '../../src/commands/status.js'
import {json} from '../support/cli.js'
import {missingKeys, redisCliCheckPasses, SELECTOR, statusNodes, startClusterWithKeys} from './cluster-data.js'
import {pods, type E2eSandbox} from './e2e-support.js'

const KEYS = 20_000

interface DelJson {removed: boolean; rehomed: Array<{replica: string; master: string}>; podsAfter?: number; outside: string[]}
interface ReshardJson {moves: Array<{from: string; to: string; slots: number}>; keysMoved: number}

const podNames = async (sandbox: E2eSandbox): Promise<string[]> => (await pods(sandbox, SELECTOR)).map((p) => p.name)
const slotCount = async (sandbox: E2eSandbox, pod: string): Promise<number | undefined> =>
  (await statusNodes(sandbox)).find((n) => n.pod === pod)?.slotCount

describe('redisctl slots reshard, node del and node del-replica, one step at a time, on 4x1', () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 251, keys: KEYS, masters: 4})
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('node del-replica refuses a master with a usage error (2) that says how to remove one', async () => {
    const refused = await sandbox.cli(['node', 'del-replica', 'redis-cluster-3', '--json'])
    expect(refused.code).toBe(2)
    expect(json<{error: {suggestions: string[]}}>(refused).error.suggestions.join(' ')).toContain('slots reshard --from redis-cluster-3 --to-all')
    expect(await slotCount(sandbox, 'redis-cluster-3')).toBe(4096)
  })

  it('slots reshard --from a replica is a usage error (2) naming its master, and moves nothing', async () => {
    const refused = await sandbox.cli(['slots', 'reshard', '--from', 'redis-cluster-7', '--to-all', '--json'])
    expect(refused.code, refused.stdout).toBe(2)
    const {error} = json<{error: {message: string; suggestions: string[]}}>(refused)
    expect(error.message).toMatch(/^--from redis-cluster-7 is a replica of redis-cluster-\d: only masters own slots, so nothing was moved\.$/)
    expect(error.suggestions.join(' ')).toContain('redis-cluster-0, redis-cluster-1, redis-cluster-2, redis-cluster-3')
    expect(await slotCount(sandbox, 'redis-cluster-3')).toBe(4096)
  })

  it('node del refuses a master that still owns slots (4), and changes nothing', async () => {
    const refused = await sandbox.cli(['node', 'del', 'redis-cluster-3', '--json'])
    expect(refused.code).toBe(4)
    expect(json<{error: {message: string}}>(refused).error.message).toContain('still owns 4096 slots')
    expect(await podNames(sandbox)).toHaveLength(8)
  })

  it('node del names an unknown pod with a not-found error (3)', async () => {
    const unknown = await sandbox.cli(['node', 'del', 'no-such-pod'])
    expect(unknown.code).toBe(3)
  })

  it('slots reshard --dry-run says "Would move" as every dry run does, one sentence a move', async () => {
    const planned = await sandbox.cli(['slots', 'reshard', '--from', 'redis-cluster-3', '--to-all', '--dry-run'])
    expect(planned.code, planned.stdout + planned.stderr).toBe(0)
    expect(planned.stdout).toMatch(/^Would move \d+ slots \(\d+ keys\) from redis-cluster-3 to redis-cluster-0\.$/m)
  }, 60_000)

  it('slots reshard --to-all empties the master into the others, keys and all', async () => {
    const moved = await sandbox.cli(['slots', 'reshard', '--from', 'redis-cluster-3', '--to-all', '--json'])
    expect(moved.code, moved.stdout + moved.stderr).toBe(0)
    const result = json<ReshardJson>(moved)
    expect(result.moves.map((m) => m.to).sort()).toEqual(['redis-cluster-0', 'redis-cluster-1', 'redis-cluster-2'])
    expect(result.keysMoved).toBeGreaterThan(4000)
    expect(await slotCount(sandbox, 'redis-cluster-3')).toBe(0)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 60_000)

  it('slots reshard run again has nothing to move and exits 0', async () => {
    const again = await sandbox.cli(['slots', 'reshard', '--from', 'redis-cluster-3', '--to-all', '--json'])
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(json<ReshardJson>(again).moves).toEqual([])
  })

  it('node del --dry-run prints the plan alone, without the lines of the steps it checks with', async () => {
    const planned = await sandbox.cli(['node', 'del', 'redis-cluster-3', '--dry-run'], {timeoutMs: 60_000})
    expect(planned.code, planned.stdout + planned.stderr).toBe(0)
    expect(planned.stdout).toMatch(/^Would take redis-cluster-3 out of the cluster, its replicas following /)
    expect(planned.stdout + planned.stderr).not.toContain('Check the node and the cluster')
  }, 60_000)

  it('node del takes the emptied master out and re-homes its replica; the pod stays, empty and outside, below the top ordinals', async () => {
    const deleted = await sandbox.cli(['node', 'del', 'redis-cluster-3', '--json'], {timeoutMs: 60_000})
    expect(deleted.code, deleted.stdout + deleted.stderr).toBe(0)
    const result = json<DelJson>(deleted)
    expect(result.removed).toBe(true)
    expect(result.rehomed).toHaveLength(1)
    expect(result.outside).toEqual(['redis-cluster-3'])
    const nodes = await statusNodes(sandbox)
    expect(nodes.filter((n) => n.role === 'master' && n.slotCount > 0)).toHaveLength(3)
    expect(nodes.filter((n) => n.role === 'replica').every((n) => n.masterPod !== 'redis-cluster-3')).toBe(true)
    expect(await redisCliCheckPasses(sandbox)).toBe(true)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
    const check = await sandbox.cli(['check'])
    expect(check.code, check.stdout).toBe(0)
  }, 60_000)

  it('status shows the pod node del left outside the cluster as outside, with no role or cluster link', async () => {
    const status = await sandbox.cli(['status', '--json'])
    expect(status.code, status.stdout + status.stderr).toBe(0)
    const body = json<StatusResult>(status)
    const outside = body.nodes.find((n) => n.pod === 'redis-cluster-3')!
    expect(outside).toMatchObject({membership: 'outside-cluster', slotCount: 0})
    expect([outside.role, outside.link]).toEqual([undefined, undefined])
    expect(body.summary).toMatchObject({outside: ['redis-cluster-3'], nodes: 7, answered: 7, agreeing: 7})
    const text = await sandbox.cli(['status'])
    const row = text.stdout.split('\n').find((l) => l.startsWith('redis-cluster-3 '))
    expect(row).toMatch(/\boutside\b/)
    expect(row).not.toMatch(/\b(master|connected)\b/)
    expect(text.stdout).toContain('Outside the cluster (answering, but no node of the cluster knows them; not yet added, or removed by node del): redis-cluster-3')
  })

  it('node del-replica of the highest pod removes it from the StatefulSet too', async () => {
    const deleted = await sandbox.cli(['node', 'del-replica', 'redis-cluster-7', '--json'], {timeoutMs: 60_000})
    expect(deleted.code, deleted.stdout + deleted.stderr).toBe(0)
    expect(json<DelJson>(deleted)).toMatchObject({removed: true, podsAfter: 7})
    expect(await podNames(sandbox)).not.toContain('redis-cluster-7')
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 60_000)

  it('node del-replica of a pod that is gone already succeeds without changing anything', async () => {
    const again = await sandbox.cli(['node', 'del-replica', 'redis-cluster-7', '--json'])
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(json<DelJson>(again).removed).toBe(false)
  })

  it('scale to 3x1 afterwards brings the pod left outside back as a replica and removes the top pod', async () => {
    const scaled = await sandbox.cli(['scale', '--masters', '3', '--yes', '--json'], {timeoutMs: 120_000})
    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    expect(await podNames(sandbox)).toEqual(['redis-cluster-0', 'redis-cluster-1', 'redis-cluster-2', 'redis-cluster-3', 'redis-cluster-4', 'redis-cluster-5'])
    const nodes = await statusNodes(sandbox)
    for (const master of nodes.filter((n) => n.role === 'master')) expect(nodes.filter((n) => n.masterPod === master.pod), master.pod).toHaveLength(1)
    expect(await redisCliCheckPasses(sandbox)).toBe(true)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 120_000)
})

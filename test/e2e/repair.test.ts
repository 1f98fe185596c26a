import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {json} from '../support/cli.js'
import {missingKeys, redisCliCheckPasses, SELECTOR, startClusterWithKeys} from './cluster-data.js'
import {pods, redisCli, waitFor, type E2eSandbox} from './e2e-support.js'

const KEYS = 30_000

interface RepairJson {
  dryRun: boolean
  nothingToRepair: boolean
  actions: Array<{kind: string; description: string}>
  refused: unknown[]
  seconds: number
}

/**
 * Each pod's CLUSTER NODES as far as a command could change it: ids, addresses, roles, masters, epochs, slots.
 * Ping/pong times, link states and failure flags change by themselves.
 */
async function clusterConfigs(sandbox: E2eSandbox): Promise<string[]> {
  return Promise.all((await pods(sandbox, SELECTOR)).map(async (p) => {
    const nodes = await redisCli(['-h', p.ip!, '-p', '6379', 'CLUSTER', 'NODES'])
    return nodes.stdout.trim().split('\n').map((line) => {
      const [id, address, flags, master, , , epoch, , ...slots] = line.split(' ')
      return [id, address, flags.includes('slave') ? 'replica' : 'master', master, epoch, ...slots].join(' ')
    }).sort().join('\n')
  }))
}

describe('redisctl repair on the sandbox, 3x1 with keys', () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 246, keys: KEYS})
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('leaves a healthy cluster untouched and says nothing needed repair (exit 0)', async () => {
    const before = await clusterConfigs(sandbox)
    const text = await sandbox.cli(['repair'])
    expect(text.code, text.stdout + text.stderr).toBe(0)
    expect(text.stdout).toContain('Nothing needed repair')
    const repaired = await sandbox.cli(['repair', '--json'])
    expect(repaired.code).toBe(0)
    expect(json<RepairJson>(repaired)).toMatchObject({nothingToRepair: true, actions: [], refused: []})
    expect(await clusterConfigs(sandbox)).toEqual(before)
  }, 60_000)

  it('turns replica migration back on where an interrupted scale in left it off, after check warned about it', async () => {
    const [, second] = await pods(sandbox, SELECTOR)
    const migration = async (): Promise<string> =>
      (await redisCli(['-h', second.ip!, 'CONFIG', 'GET', 'cluster-allow-replica-migration'])).stdout.trim().split('\n')[1]
    await redisCli(['-h', second.ip!, 'CONFIG', 'SET', 'cluster-allow-replica-migration', 'no'])

    const check = await sandbox.cli(['check', '--json'])
    expect(check.code, check.stdout).toBe(0)
    expect(json<{findings: unknown[]}>(check).findings).toEqual([expect.objectContaining({code: 'replica-migration-off', pods: [second.name]})])
    const repaired = await sandbox.cli(['repair', '--json'])
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
    expect(json<RepairJson>(repaired).actions).toEqual([expect.objectContaining({kind: 'allow-replica-migration', pods: [second.name]})])
    expect(await migration()).toBe('yes')
  }, 60_000)

  describe('after every pod was deleted at once and came back with a new IP', () => {
    let ipsBefore: string[]

    beforeAll(async () => {
      ipsBefore = (await pods(sandbox, SELECTOR)).map((p) => p.ip!)
      const deleted = await sandbox.kubectl(['delete', 'pods', '-l', SELECTOR, '--wait=false'])
      expect(deleted.code, deleted.stderr).toBe(0)
      await waitFor('6 new pods with new IPs', async () => {
        const now = await pods(sandbox, SELECTOR)
        return now.length === 6 && now.every((p) => p.ready && p.ip && !ipsBefore.includes(p.ip))
      })
    }, 60_000)

    it('check reports the stale addresses as an error (exit 10)', async () => {
      const check = await sandbox.cli(['check', '--json'])
      expect(check.code).toBe(10)
      expect(json<{findings: Array<{code: string; severity: string}>}>(check).findings).toContainEqual(expect.objectContaining({code: 'stale-address', severity: 'error'}))
    })

    it('repair --dry-run shows the CLUSTER MEETs it would send and changes nothing', async () => {
      const before = await clusterConfigs(sandbox)
      const dry = await sandbox.cli(['repair', '--dry-run', '--json'])
      expect(dry.code, dry.stdout + dry.stderr).toBe(0)
      const plan = json<RepairJson>(dry)
      expect(plan.dryRun).toBe(true)
      expect(plan.actions).toHaveLength(15)
      expect(plan.actions.every((a) => a.kind === 'meet' && a.description.includes('at its current address'))).toBe(true)
      const text = await sandbox.cli(['repair', '--dry-run'])
      expect(text.stdout).toContain('would: redis-cluster-0 meets redis-cluster-1 at its current address')
      expect(await clusterConfigs(sandbox)).toEqual(before)
      expect((await sandbox.cli(['check'])).code).toBe(10)
    }, 60_000)

    it('repair reconnects the cluster: check exits 0, redis-cli --cluster check passes, every key is there', async () => {
      const repaired = await sandbox.cli(['repair', '--json'])
      expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
      const result = json<RepairJson>(repaired)
      expect(result.actions.map((a) => a.kind)).toContain('meet')
      expect(result.refused).toEqual([])
      const check = await sandbox.cli(['check'])
      expect(check.code, check.stdout).toBe(0)
      expect(await redisCliCheckPasses(sandbox)).toBe(true)
      expect(await missingKeys(sandbox, KEYS)).toBe(0)
    }, 90_000)
  })
})

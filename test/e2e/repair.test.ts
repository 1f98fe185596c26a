import {Cluster} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {json} from '../support/cli.js'
import {pods, redisCli, startE2eSandbox, waitFor, type E2eSandbox} from './e2e-support.js'

const SELECTOR = 'app.kubernetes.io/instance=redis-cluster'
const KEYS = 30_000
const value = (i: number): string => `v${i}-${'x'.repeat(90)}`

interface RepairJson {
  dryRun: boolean
  nothingToRepair: boolean
  actions: Array<{kind: string; description: string}>
  refused: unknown[]
  seconds: number
}

async function clusterClient(sandbox: E2eSandbox): Promise<Cluster> {
  const seeds = (await pods(sandbox, SELECTOR)).map((p) => ({host: p.ip!, port: 6379}))
  return new Cluster(seeds, {scaleReads: 'master', redisOptions: {maxRetriesPerRequest: 5}})
}

async function missingKeys(sandbox: E2eSandbox): Promise<number> {
  const cluster = await clusterClient(sandbox)
  let missing = 0
  try {
    for (let start = 0; start < KEYS; start += 5000) {
      const batch = Array.from({length: Math.min(5000, KEYS - start)}, (_, j) => start + j)
      const got = await Promise.all(batch.map((i) => cluster.get(`key:${i}`)))
      got.forEach((v, j) => {
        if (v !== value(batch[j])) missing++
      })
    }
  } finally {
    cluster.disconnect()
  }
  return missing
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

async function redisCliCheckPasses(sandbox: E2eSandbox): Promise<boolean> {
  const [first] = await pods(sandbox, SELECTOR)
  const check = await redisCli(['--cluster', 'check', `${first.ip}:6379`])
  return check.code === 0 && check.stdout.includes('[OK] All 16384 slots covered') && !check.stdout.includes('[ERR]')
}

describe('redisctl repair on the sandbox, 3x1 with keys', () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 246})
    const created = await sandbox.cli(['cluster', 'create', '--json'])
    if (created.code !== 0) throw new Error(`create failed: ${created.stdout}${created.stderr}`)
    const cluster = await clusterClient(sandbox)
    try {
      for (let start = 0; start < KEYS; start += 5000) {
        await Promise.all(Array.from({length: Math.min(5000, KEYS - start)}, (_, j) => cluster.set(`key:${start + j}`, value(start + j))))
      }
    } finally {
      cluster.disconnect()
    }
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
      expect(result.seconds).toBeLessThan(30)
      const check = await sandbox.cli(['check'])
      expect(check.code, check.stdout).toBe(0)
      expect(await redisCliCheckPasses(sandbox)).toBe(true)
      expect(await missingKeys(sandbox)).toBe(0)
    }, 90_000)
  })
})

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CheckResult} from '../../src/commands/check.js'
import {json} from '../support/cli.js'
import {missingKeys, redisCliCheckPasses, SELECTOR, startClusterWithKeys, statusNodes} from './cluster-data.js'
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
    expect(json<{findings: Array<{code: string}>}>(check).findings).toEqual([expect.objectContaining({code: 'replica-migration-off', pods: [second.name]})])
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
    }, 120_000)

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

  describe('after a master lost its pod and its volume (a new empty node came up in its place)', () => {
    let lostPod: string
    let lostId: string
    let heir: string

    beforeAll(async () => {
      const nodes = (await statusNodes(sandbox)).filter((n) => n.membership === 'in-cluster')
      const master = nodes.find((n) => n.role === 'master' && nodes.some((r) => r.masterPod === n.pod))!
      lostPod = master.pod
      lostId = master.id!
      heir = nodes.find((r) => r.masterPod === lostPod)!.pod
      const ipBefore = master.ip
      // Every write is on the replica before the master goes: its replica then takes over with all of them.
      // WAIT returns once a replica acknowledged every write the master took before it (or after its 5 s).
      await waitFor('the replica to have every write of its master', async () => Number((await redisCli(['-h', ipBefore, 'WAIT', '1', '5000'])).stdout.trim()) >= 1, 120_000)
      expect((await sandbox.kubectl(['delete', 'pvc', `data-${lostPod}`, '--wait=false'])).code).toBe(0)
      expect((await sandbox.kubectl(['delete', 'pod', lostPod, '--wait=false'])).code).toBe(0)
      await waitFor(`${lostPod} back, empty, at a new IP`, async () => {
        const back = (await pods(sandbox, SELECTOR)).find((p) => p.name === lostPod)
        return back?.ready && back.ip && back.ip !== ipBefore
      })
      // The dry run and the run are compared on the same state: once the replica has taken over (Redis does
      // that by itself after cluster-node-timeout), nothing changes until repair acts.
      await waitFor(`${heir} to take over from ${lostPod}`, async () => (await statusNodes(sandbox)).find((n) => n.pod === heir)?.role === 'master', 60_000)
    }, 300_000)

    it('check names the lost node as one no pod answers for, never as a stale address or slots without owner (exit 10)', async () => {
      const check = await sandbox.cli(['check', '--json'])
      expect(check.code).toBe(10)
      const {findings} = json<CheckResult>(check)
      expect(findings.map((f) => f.code)).not.toContain('slots-uncovered')
      expect(findings.map((f) => f.message).join(' ')).not.toMatch(/stale address/i)
      expect(findings.find((f) => f.code === 'node-without-pod')?.message).toContain(`${lostId} at `)
      expect(findings.find((f) => f.code === 'pod-not-in-cluster')?.pods).toEqual([lostPod])
    }, 60_000)

    it('repair after a master lost pod and volume succeeds in one run and its dry run lists the REPLICATE step: check exits 0, every key is there', async () => {
      const dry = await sandbox.cli(['repair', '--dry-run', '--json'])
      expect(dry.code, dry.stdout + dry.stderr).toBe(0)
      const plan = json<RepairJson>(dry)
      expect(plan.refused).toEqual([])
      expect(plan.actions.map((a) => a.kind)).toEqual(['meet', 'forget', 'replicate'])
      // The scheduler may have put the recreated pod beside the master it must follow; the plan then says so.
      expect(plan.actions[2].description).toMatch(new RegExp(`^${lostPod} \\(an empty master\\) becomes a replica of ${heir}, which has none \\(CLUSTER REPLICATE\\)(; on the same Kubernetes node: no other pod fits)?$`))

      // Bounded below the test's own bound: a repair that waits too long says what it waited for.
      const repaired = await sandbox.cli(['repair', '--json', '--timeout', '90'], {timeoutMs: 120_000})
      expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
      const result = json<RepairJson>(repaired)
      expect(result.refused).toEqual([])
      expect(result.actions.map((a) => a.description)).toEqual(plan.actions.map((a) => a.description))

      const check = await sandbox.cli(['check', '--json'])
      expect(check.code, check.stdout).toBe(0)
      // Where pods run is the scheduler's: the recreated pod may land beside the master it must now follow, pods
      // rescheduled by the earlier mass deletion may share nodes, and the failover may have made a master of a
      // replica beside another master. check rightly warns same-node or masters-on-one-node then; repair moves
      // neither pods nor masters, so those are the only findings allowed.
      const nodes = await statusNodes(sandbox)
      const placement = new Set(['same-node', 'masters-on-one-node'])
      expect(json<CheckResult>(check).findings.filter((f) => !placement.has(f.code))).toEqual([])
      expect(nodes.find((n) => n.pod === lostPod)).toMatchObject({role: 'replica', masterPod: heir})
      expect(await redisCliCheckPasses(sandbox)).toBe(true)
      expect(await missingKeys(sandbox, KEYS)).toBe(0)
    }, 180_000)
  })
})

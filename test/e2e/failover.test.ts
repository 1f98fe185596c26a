import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CheckResult} from '../../src/commands/check.js'
import type {DrillFailoverResult} from '../../src/commands/drill/failover.js'
import type {FailoverResult} from '../../src/commands/failover.js'
import {json} from '../support/cli.js'
import {missingKeys, redisCliCheckPasses, SELECTOR, startClusterWithKeys, statusNodes} from './cluster-data.js'
import {pods, redisCli, waitFor, type E2eSandbox} from './e2e-support.js'

const KEYS = 20_000

describe('redisctl failover, on 3x1 with 20,000 keys', () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 59, keys: KEYS})
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('hands redis-cluster-0 to its in-sync replica: every node agrees, the old master follows it, every key is there', async () => {
    const before = await statusNodes(sandbox)
    const replica = before.find((n) => n.masterPod === 'redis-cluster-0')!.pod

    const failover = await sandbox.cli(['failover', 'redis-cluster-0', '--json'], {timeoutMs: 90_000})

    expect(failover.code, failover.stdout + failover.stderr).toBe(0)
    expect(json<FailoverResult>(failover)).toMatchObject({master: 'redis-cluster-0', promoted: replica, mode: 'planned', confirmation: {confirmedBy: 6, asked: 6}})
    const after = await statusNodes(sandbox)
    expect(after.find((n) => n.pod === replica)).toMatchObject({role: 'master', slots: '0-5460'})
    expect(after.find((n) => n.pod === 'redis-cluster-0')).toMatchObject({role: 'replica', masterPod: replica})
    expect(await redisCliCheckPasses(sandbox)).toBe(true)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 120_000)

  it('--to names the replica to promote: redis-cluster-0 takes its slots back', async () => {
    const master = (await statusNodes(sandbox)).find((n) => n.role === 'master' && n.slots === '0-5460')!.pod

    const failback = await sandbox.cli(['failover', master, '--to', 'redis-cluster-0'], {timeoutMs: 90_000})

    expect(failback.code, failback.stdout + failback.stderr).toBe(0)
    // One claim, and a true one: the step says who took over, the last line who confirmed it.
    expect(failback.stdout).toContain(`redis-cluster-0 is the master of ${master}'s slots, confirmed by all 6 nodes.`)
    expect(failback.stdout).not.toMatch(/every node/)
    expect((await statusNodes(sandbox)).find((n) => n.pod === 'redis-cluster-0')).toMatchObject({role: 'master', slots: '0-5460'})
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 120_000)

  it('refuses (exit 4) while the only replica cannot replicate, naming it and why, and changes nothing', async () => {
    const before = await statusNodes(sandbox)
    const master = before.find((n) => n.pod === 'redis-cluster-1')!
    const replica = before.find((n) => n.masterPod === 'redis-cluster-1')!
    // The master refuses its replica's PSYNC: the replica's link stays down while every client command still works.
    await redisCli(['-h', master.ip, 'ACL', 'SETUSER', 'default', '-psync', '-sync'])
    await redisCli(['-h', master.ip, 'CLIENT', 'KILL', 'TYPE', 'replica'])
    try {
      await waitFor('the replica link down', async () => (await statusNodes(sandbox)).find((n) => n.pod === replica.pod)?.sync?.state === 'link-down')

      const refused = await sandbox.cli(['failover', 'redis-cluster-1'])

      expect(refused.code, refused.stdout + refused.stderr).toBe(4)
      // Refused PSYNCs leave the replica between link down and a sync the master lists as under way: either is named.
      expect(refused.stderr.replaceAll(/\s*›\s*/g, ' ')).toMatch(new RegExp(`No replica of redis-cluster-1 is in sync.*${replica.pod} (cannot reach its master|is still in its first or full sync)`))
      expect((await statusNodes(sandbox)).find((n) => n.pod === 'redis-cluster-1')).toMatchObject({role: 'master', slots: master.slots})
    } finally {
      await redisCli(['-h', master.ip, 'ACL', 'SETUSER', 'default', '+psync', '+sync'])
      // A replica whose PSYNCs were refused can stay a constant ~870 KB (the master's whole stream) behind after its
      // next sync, which later waits for every replica in sync never see end: a new link resyncs it from scratch.
      await redisCli(['-h', master.ip, 'CLIENT', 'KILL', 'TYPE', 'replica'])
    }
    await waitFor('the replica in sync again', async () => (await statusNodes(sandbox)).find((n) => n.pod === replica.pod)?.sync?.state === 'in-sync', 90_000)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 180_000)

  it('drill failover deletes a master\'s pod under a writer on its slots: no acknowledged write lost, the pod back, check clean, every key there', async () => {
    const drill = await sandbox.cli(['drill', 'failover', '--pod', 'redis-cluster-2', '--yes', '--json', '--timeout', '180s'], {timeoutMs: 240_000})

    expect(drill.code, drill.stdout + drill.stderr).toBe(0)
    const report = json<DrillFailoverResult>(drill)
    console.log(`drill failover of redis-cluster-2: ${JSON.stringify(report)}`)
    expect(report).toMatchObject({pod: 'redis-cluster-2', connect: 'direct', writesLost: 0, staleReads: 0})
    expect(report.writesAcknowledged).toBeGreaterThan(50)
    expect(report.longestWriteGapSeconds).toBeGreaterThan(0)
    const after = await statusNodes(sandbox)
    expect(after.find((n) => n.pod === 'redis-cluster-2')).toMatchObject({membership: 'in-cluster', role: report.returnedAs})
    const check = await sandbox.cli(['check', '--json'])
    expect(json<CheckResult>(check).findings.filter((f) => f.severity === 'error')).toEqual([])
    expect(await redisCliCheckPasses(sandbox)).toBe(true)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
    const drillKeysLeft = await Promise.all(after.filter((n) => n.role === 'master').map(async (n) =>
      (await redisCli(['-h', n.ip, '-p', String(n.port), '--scan', '--pattern', 'redisctl-drill:*'])).stdout.trim()))
    expect(drillKeysLeft.filter(Boolean)).toEqual([])
  }, 300_000)

  it('drill failover --connect port-forward: the writer reaches every node, and the deleted master at its new IP, through port-forwards to their pods; no acknowledged write lost, check clean, every key there', async () => {
    const before = await pods(sandbox, SELECTOR)
    const drill = await sandbox.cli(['drill', 'failover', '--pod', 'redis-cluster-1', '--connect', 'port-forward', '--yes', '--json', '--timeout', '180s'], {timeoutMs: 240_000})

    expect(drill.code, drill.stdout + drill.stderr).toBe(0)
    const report = json<DrillFailoverResult>(drill)
    console.log(`drill failover of redis-cluster-1 through port-forward: ${JSON.stringify(report)}`)
    expect(report).toMatchObject({pod: 'redis-cluster-1', connect: 'port-forward', writesLost: 0, staleReads: 0})
    expect(report.writesAcknowledged).toBeGreaterThan(50)
    const ipOf = (list: typeof before): string | undefined => list.find((p) => p.name === 'redis-cluster-1')?.ip
    expect(ipOf(await pods(sandbox, SELECTOR))).not.toBe(ipOf(before))
    const after = await statusNodes(sandbox)
    expect(after.find((n) => n.pod === 'redis-cluster-1')).toMatchObject({membership: 'in-cluster', role: report.returnedAs})
    const check = await sandbox.cli(['check', '--json'])
    expect(json<CheckResult>(check).findings.filter((f) => f.severity === 'error')).toEqual([])
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 300_000)
})

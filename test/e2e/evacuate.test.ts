import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CheckResult} from '../../src/commands/check.js'
import type {EvacuateResult} from '../../src/commands/evacuate.js'
import {startTraffic} from '../../src/redis/traffic.js'
import {json} from '../support/cli.js'
import {missingKeys, redisCliCheckPasses, SELECTOR, startClusterWithKeys, statusNodes} from './cluster-data.js'
import {pods, waitFor, type E2eSandbox} from './e2e-support.js'

const KEYS = 20_000

describe('redisctl evacuate, on 3x1 with 20,000 keys over 3 Kubernetes nodes', () => {
  let sandbox: E2eSandbox
  let k8sNode: string

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 60, keys: KEYS})
    k8sNode = (await statusNodes(sandbox)).find((n) => n.pod === 'redis-cluster-0')!.k8sNode!
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('--dry-run names the master it would move and to which replica, and changes nothing', async () => {
    const before = await statusNodes(sandbox)

    const dry = await sandbox.cli(['evacuate', '--k8s-node', k8sNode, '--dry-run', '--json'])

    expect(dry.code, dry.stdout + dry.stderr).toBe(0)
    const plan = json<EvacuateResult>(dry)
    expect(plan.failovers.map((f) => f.master)).toEqual(before.filter((n) => n.k8sNode === k8sNode && n.role === 'master').map((n) => n.pod))
    expect(plan.failovers.every((f) => f.replicaK8sNode !== k8sNode)).toBe(true)
    expect((await statusNodes(sandbox)).map((n) => [n.pod, n.role])).toEqual(before.map((n) => [n.pod, n.role]))
  }, 60_000)

  it('moves every master off the node; its pods deleted under traffic then were all replicas, and nothing is lost', async () => {
    const evacuated = await sandbox.cli(['evacuate', '--k8s-node', k8sNode, '--json'], {timeoutMs: 90_000})

    expect(evacuated.code, evacuated.stdout + evacuated.stderr).toBe(0)
    expect(json<EvacuateResult>(evacuated).unmovable).toEqual([])
    const onNode = (await statusNodes(sandbox)).filter((n) => n.k8sNode === k8sNode)
    expect(onNode.length).toBeGreaterThan(0)
    expect(onNode.filter((n) => n.role !== 'replica')).toEqual([])

    // What a drain does: every pod on the node goes, while a client writes and reads.
    const seeds = (await pods(sandbox, SELECTOR)).map((p) => ({host: p.ip!, port: 6379}))
    const traffic = startTraffic(seeds)
    const gone = onNode.map((n) => n.pod)
    expect((await sandbox.kubectl(['delete', 'pod', ...gone])).code).toBe(0)
    await waitFor('the deleted pods back, check finding no errors and every replica in sync', async () => {
      const check = await sandbox.cli(['check', '--json'])
      const findings = check.code === 0 ? json<CheckResult>(check).findings : undefined
      return findings && !findings.some((f) => f.code === 'replica-syncing' || f.code === 'replica-link-down')
    }, 120_000)
    const report = await traffic.stop()
    console.log(`traffic while ${gone.join(', ')} restarted: ${report.writesAcknowledged} writes acknowledged, ${report.errors} errors ` +
      `${JSON.stringify(report.errorKinds)}, longest write gap ${report.longestWriteGap.ms} ms, ${report.lost.length} lost`)

    expect(report.stoppedBy).toBe('caller')
    expect(report.writesAcknowledged).toBeGreaterThan(100)
    expect(report.lost).toEqual([])
    expect(report.staleReads).toBe(0)
    expect(await redisCliCheckPasses(sandbox)).toBe(true)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 300_000)

  it('run again, finds no master on the node, moves nothing and exits 0', async () => {
    const again = await sandbox.cli(['evacuate', '--k8s-node', k8sNode, '--json'])

    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(json<EvacuateResult>(again)).toMatchObject({failovers: [], unmovable: []})
  }, 60_000)
})

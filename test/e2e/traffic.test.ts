import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {json} from '../support/cli.js'
import {missingKeys, redisCliCheckPasses, startClusterWithKeys, SELECTOR, statusNodes} from './cluster-data.js'
import {pods, waitFor, type E2eSandbox} from './e2e-support.js'
import {startTraffic, type TrafficReport} from '../../src/redis/traffic.js'

const KEYS = 20_000

/** Runs the CLI while a bounded writer and reader works on the cluster; prints what the traffic saw. */
async function scaleUnderTraffic(sandbox: E2eSandbox, args: string[]): Promise<{scaled: Awaited<ReturnType<E2eSandbox['cli']>>; report: TrafficReport}> {
  const seeds = (await pods(sandbox, SELECTOR)).map((p) => ({host: p.ip!, port: 6379}))
  const traffic = startTraffic(seeds)
  const scaled = await sandbox.cli(args, {timeoutMs: 150_000})
  const report = await traffic.stop()
  logTraffic(args.join(' '), report)
  return {scaled, report}
}

function logTraffic(during: string, report: TrafficReport): void {
  console.log(`traffic during ${during}: ${report.ops} ops in ${report.seconds.toFixed(1)} s (${report.opsPerSecond} ops/s), ` +
    `${report.writesAcknowledged} writes acknowledged, ${report.reads} reads, ${report.errors} errors ${JSON.stringify(report.errorKinds)}, ` +
    `${report.staleReads} stale reads, ${report.lost.length} lost writes`)
}

/** The traffic ran through the whole command, lost no acknowledged write and never read an older value; the cluster is whole. */
async function expectNothingLost(sandbox: E2eSandbox, report: TrafficReport, masters: number): Promise<void> {
  expect(report.stoppedBy).toBe('caller')
  expect(report.writesAcknowledged).toBeGreaterThan(100)
  expect(report.lost).toEqual([])
  expect(report.staleReads).toBe(0)
  expect((await statusNodes(sandbox)).filter((n) => n.role === 'master')).toHaveLength(masters)
  expect(await redisCliCheckPasses(sandbox)).toBe(true)
  expect(await missingKeys(sandbox, KEYS)).toBe(0)
}

describe('a cluster client writing and reading while redisctl creates, grows and shrinks a cluster', () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 245, keys: KEYS})
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('through cluster create, from the moment the pods have IPs: every acknowledged write reads back with its last value', async () => {
    const name = 'traffic-create'
    const selector = `app.kubernetes.io/instance=${name}`
    const creating = sandbox.cli(['cluster', 'create', '--name', name], {timeoutMs: 150_000})
    const seeds = await waitFor('6 pods with IPs', async () => {
      const found = await pods(sandbox, selector)
      return found.length === 6 && found.every((p) => p.ip) ? found.map((p) => ({host: p.ip!, port: 6379})) : undefined
    })
    // The client queues and retries (CLUSTERDOWN) until the cluster serves; it goes on a moment after create ends.
    const traffic = startTraffic(seeds)
    const created = await creating
    const duringCreate = traffic.writesAcknowledged()
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const report = await traffic.stop()
    logTraffic(`cluster create (${duringCreate} writes acknowledged before it returned)`, report)

    expect(created.code, created.stdout + created.stderr).toBe(0)
    expect(report.stoppedBy).toBe('caller')
    expect(report.writesAcknowledged).toBeGreaterThan(100)
    expect(report.lost).toEqual([])
    expect(report.staleReads).toBe(0)
    const down = await sandbox.cli(['teardown', '--name', name, '--with-pvcs', '--yes'])
    expect(down.code, down.stdout + down.stderr).toBe(0)
  }, 180_000)

  it('from 3x1 to 4 masters: every acknowledged write reads back with its last value, no read goes back in time', async () => {
    const {scaled, report} = await scaleUnderTraffic(sandbox, ['scale', '--masters', '4', '--json'])

    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    expect(json<{keysMoved: number}>(scaled).keysMoved).toBeGreaterThan(0)
    await expectNothingLost(sandbox, report, 4)
  }, 180_000)

  it('from 4 masters back to 3: every acknowledged write reads back with its last value, no read goes back in time', async () => {
    const {scaled, report} = await scaleUnderTraffic(sandbox, ['scale', '--masters', '3', '--yes', '--json'])

    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    expect(json<{removedPods: string[]}>(scaled).removedPods).toEqual(['redis-cluster-6', 'redis-cluster-7'])
    await expectNothingLost(sandbox, report, 3)
  }, 180_000)
})

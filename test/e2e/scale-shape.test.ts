import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {ScaleResult} from '../../src/commands/scale.js'
import {json} from '../support/cli.js'
import {missingKeys, SELECTOR, statusNodes, writeKeys} from './cluster-data.js'
import {pods, startE2eSandbox, type E2eSandbox} from './e2e-support.js'

const KEYS = 20_000

const replicasPerMaster = async (sandbox: E2eSandbox): Promise<number[]> => {
  const nodes = await statusNodes(sandbox)
  return nodes.filter((n) => n.role === 'master').map((m) => nodes.filter((n) => n.masterPod === m.pod).length)
}

describe('redisctl scale: a flag left out keeps what the cluster has, and removing pods asks first', () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 63})
    const created = await sandbox.cli(['cluster', 'create', '--masters', '3', '--replicas-per-master', '2', '--json'], {timeoutMs: 180_000})
    if (created.code !== 0) throw new Error(`create failed: ${created.stdout}${created.stderr}`)
    await writeKeys(sandbox, KEYS)
  }, 240_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('scale --masters 4 on 3x2 (no --replicas-per-master) scales out to 4x2, every key kept', async () => {
    const scaled = await sandbox.cli(['scale', '--masters', '4', '--json'], {timeoutMs: 240_000})
    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    expect(json<ScaleResult>(scaled).direction).toBe('out')
    expect(await pods(sandbox, SELECTOR)).toHaveLength(12)
    expect(await replicasPerMaster(sandbox)).toEqual([2, 2, 2, 2])
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 300_000)

  it('scale --masters 4 on 4x2 keeps 2 replicas per master: no pod removed, nothing moved', async () => {
    const again = await sandbox.cli(['scale', '--masters', '4', '--json'], {timeoutMs: 180_000})
    expect(again.code, again.stdout + again.stderr).toBe(0)
    const result = json<ScaleResult>(again)
    expect(result).toMatchObject({direction: 'out', removedPods: [], moves: []})
    expect(await pods(sandbox, SELECTOR)).toHaveLength(12)
    expect(await replicasPerMaster(sandbox)).toEqual([2, 2, 2, 2])
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 240_000)

  it('scale --masters 3 without a terminal and without --yes refuses (usage, 2) naming the pods it would remove, and removes none', async () => {
    const refused = await sandbox.cli(['scale', '--masters', '3', '--json'], {timeoutMs: 180_000})
    expect(refused.code, refused.stdout + refused.stderr).toBe(2)
    expect(json<{error: {message: string; suggestions: string[]}}>(refused).error).toMatchObject({
      message: expect.stringMatching(/remove redis-cluster-9, redis-cluster-10, redis-cluster-11 without confirmation/), suggestions: [expect.stringContaining('--yes')],
    })
    expect(await pods(sandbox, SELECTOR)).toHaveLength(12)
    expect(await replicasPerMaster(sandbox)).toEqual([2, 2, 2, 2])
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 240_000)

  it('scale --masters 3 --yes on 4x2 keeps 2 replicas per master and removes the 3 top pods, every key kept', async () => {
    const scaled = await sandbox.cli(['scale', '--masters', '3', '--yes', '--json'], {timeoutMs: 240_000})
    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    expect(json<ScaleResult>(scaled)).toMatchObject({direction: 'in', removedPods: ['redis-cluster-9', 'redis-cluster-10', 'redis-cluster-11']})
    expect(await pods(sandbox, SELECTOR)).toHaveLength(9)
    expect(await replicasPerMaster(sandbox)).toEqual([2, 2, 2])
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 300_000)
})

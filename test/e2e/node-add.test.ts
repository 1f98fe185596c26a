import {spawn} from 'node:child_process'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {MoveSlotsResult} from '../../src/cli/move-slots.js'
import type {CheckResult} from '../../src/commands/check.js'
import {CLI, json} from '../support/cli.js'
import {missingKeys, redisCliCheckPasses, startClusterWithKeys, SELECTOR, slotSpreadPercent, statusNodes} from './cluster-data.js'
import {pods, waitForReadyPods, type E2eSandbox} from './e2e-support.js'

const KEYS = 20_000

interface Added {pod: string; role: string; master?: string; created: boolean}

const joiningRecord = async (sandbox: E2eSandbox): Promise<string> =>
  (await sandbox.kubectl(['get', 'statefulset', 'redis-cluster', '-o', 'jsonpath={.metadata.annotations.redisctl\\.io/joining}'])).stdout

/** Runs the CLI and kills it (SIGKILL, no clean-up) as soon as its output shows `marker`; resolves with that output. */
function killWhenSeen(sandbox: E2eSandbox, args: string[], marker: string): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], {env: {...process.env, CI: 'true', KUBECONFIG: sandbox.kubeconfig}, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  const watch = (d: Buffer): void => {
    output += d
    if (output.includes(marker)) child.kill('SIGKILL')
  }
  child.stdout.on('data', watch)
  child.stderr.on('data', watch)
  return new Promise((resolve) => child.once('close', () => resolve(output)))
}

describe('redisctl node add and node add-replica on 3x1 with 20,000 keys', () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 244, keys: KEYS})
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('node add --count 1 adds one empty master and says to rebalance; check warns master-without-slots', async () => {
    const added = await sandbox.cli(['node', 'add', '--count', '1', '--json'])
    expect(added.code, added.stdout + added.stderr).toBe(0)
    const result = json<{added: Added[]; next: string}>(added)
    expect(result.added).toEqual([expect.objectContaining({pod: 'redis-cluster-6', role: 'master', created: true})])
    expect(result.next).toBe('redisctl slots rebalance --use-empty-masters')
    const check = await sandbox.cli(['check', '--json'])
    expect(check.code, check.stdout).toBe(0)
    expect(json<CheckResult>(check).findings).toContainEqual(expect.objectContaining({code: 'master-without-slots', severity: 'warning', pods: ['redis-cluster-6']}))
  }, 120_000)

  it('slots rebalance without --use-empty-masters names the master that owns no slots instead of calling the slots balanced, and moves nothing', async () => {
    const balanced = await sandbox.cli(['slots', 'rebalance'])
    expect(balanced.code, balanced.stdout + balanced.stderr).toBe(0)
    expect(balanced.stdout).toContain('redis-cluster-6 owns no slots and was left out: slots rebalance --use-empty-masters gives it a share.')
    expect(balanced.stdout).not.toContain('The slots are balanced')
    expect((await statusNodes(sandbox)).find((n) => n.pod === 'redis-cluster-6')).toMatchObject({role: 'master', slotCount: 0})
  }, 120_000)

  it('slots rebalance --use-empty-masters then gives it a share, keeping every key', async () => {
    const rebalanced = await sandbox.cli(['slots', 'rebalance', '--use-empty-masters', '--json'])
    expect(rebalanced.code, rebalanced.stdout + rebalanced.stderr).toBe(0)
    expect(json<MoveSlotsResult>(rebalanced).mastersWithoutSlots).toEqual([])
    const nodes = await statusNodes(sandbox)
    expect(nodes.filter((n) => n.role === 'master')).toHaveLength(4)
    expect(slotSpreadPercent(nodes)).toBeLessThanOrEqual(2)
    expect(await redisCliCheckPasses(sandbox)).toBe(true)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 120_000)

  it('node add-replica gives the new pod to the master that has none and returns once it is in sync: check finds no replica-syncing', async () => {
    const added = await sandbox.cli(['node', 'add-replica', '--json'])
    expect(added.code, added.stdout + added.stderr).toBe(0)
    expect(json<{added: Added[]}>(added).added).toEqual([expect.objectContaining({pod: 'redis-cluster-7', role: 'replica', master: 'redis-cluster-6'})])
    const check = await sandbox.cli(['check', '--json'])
    expect(check.code, check.stdout).toBe(0)
    expect(json<CheckResult>(check).findings.filter((f) => f.code === 'replica-syncing' || f.code === 'replica-link-down')).toEqual([])
    const nodes = await statusNodes(sandbox)
    expect(nodes.find((n) => n.pod === 'redis-cluster-7')).toMatchObject({role: 'replica', masterPod: 'redis-cluster-6'})
    expect(await redisCliCheckPasses(sandbox)).toBe(true)
  }, 120_000)

  it('node add-replica --master naming a replica is a usage error (2) and changes nothing', async () => {
    const refused = await sandbox.cli(['node', 'add-replica', '--master', 'redis-cluster-7', '--json'])
    expect(refused.code).toBe(2)
    expect(json<{error: {message: string}}>(refused).error.message).toContain('not a master of this cluster')
    expect(await pods(sandbox, SELECTOR)).toHaveLength(8)
    expect(await joiningRecord(sandbox)).toBe('')
  })

  it('node add-replica --master naming no pod of the cluster is not found (3) and changes nothing', async () => {
    const refused = await sandbox.cli(['node', 'add-replica', '--master', 'redis-cluster-42'])
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain('redis-cluster-42')
    expect(await pods(sandbox, SELECTOR)).toHaveLength(8)
  })

  it('node add joins a pod that already runs outside the cluster (kubectl scale) instead of adding another', async () => {
    expect((await sandbox.kubectl(['scale', 'statefulset', 'redis-cluster', '--replicas', '9'])).code).toBe(0)
    await waitForReadyPods(sandbox, SELECTOR, 9)
    const added = await sandbox.cli(['node', 'add', '--count', '1', '--json'])
    expect(added.code, added.stdout + added.stderr).toBe(0)
    expect(json<{added: Added[]; podsAfter: number}>(added)).toMatchObject({podsAfter: 9, added: [expect.objectContaining({pod: 'redis-cluster-8', created: false})]})
    expect(await pods(sandbox, SELECTOR)).toHaveLength(9)
    expect((await statusNodes(sandbox)).find((n) => n.pod === 'redis-cluster-8')).toMatchObject({role: 'master'})
  }, 60_000)

  it('node add killed after the new pod met the cluster, run again, finishes with that pod and adds none', async () => {
    const output = await killWhenSeen(sandbox, ['node', 'add', '--count', '1'], 'Wait until every node reports cluster_state:ok')
    expect(output).toContain('Introduce the nodes to each other')
    expect(await joiningRecord(sandbox)).toBe('redis-cluster-9')
    const again = await sandbox.cli(['node', 'add', '--count', '1', '--json'])
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(json<{added: Added[]}>(again).added).toEqual([expect.objectContaining({pod: 'redis-cluster-9', created: false})])
    expect(await pods(sandbox, SELECTOR)).toHaveLength(10)
    expect(await joiningRecord(sandbox)).toBe('')
    expect(await redisCliCheckPasses(sandbox)).toBe(true)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 90_000)
})

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runCliSignalledAt, type SignalledRun} from '../support/cli.js'
import {missingKeys, SELECTOR, startClusterWithKeys, statusNodes} from './cluster-data.js'
import {pods, redisCli, type E2eSandbox} from './e2e-support.js'

/**
 * Ctrl-C (SIGINT) or a CI runner's SIGTERM while slots move: the command starts nothing new, lets the batches in
 * flight land, closes every open slot, says what it did and that the same command finishes the job, and exits 130
 * or 143. Then the same command finishes. (SIGKILL, where nothing runs on the way out: crash-resume.test.ts.)
 */

const KEYS = 200_000
/** The first progress line of "Move the slots": keys are moving. */
const MOVING = /\d+\/\d+ slots, \d+ keys moved/

/** Slots MIGRATING or IMPORTING on any pod, as each node says of itself (CLUSTER NODES, its myself line). */
async function openSlots(sandbox: E2eSandbox): Promise<string[]> {
  const open: string[] = []
  for (const pod of await pods(sandbox, SELECTOR)) {
    const nodes = await redisCli(['-h', pod.ip!, '-p', '6379', 'CLUSTER', 'NODES'])
    const myself = nodes.stdout.split('\n').find((line) => line.includes('myself')) ?? ''
    open.push(...(myself.match(/\[\d+-[<>]-[0-9a-f]+\]/g) ?? []).map((marker) => `${pod.name} ${marker}`))
  }
  return open
}

function expectStoppedCleanly(run: SignalledRun, signal: 'SIGINT' | 'SIGTERM', exitCode: number): void {
  // The error is printed once, by the command, which wraps it: joined again here before matching.
  const output = (run.stdout + run.stderr).replaceAll(/\s*›\s*/g, ' ')
  expect(run.at, `no slot moved before the command ended (${run.code}):\n${output}`).toBeDefined()
  expect(run.code, output).toBe(exitCode)
  expect(output).toMatch(new RegExp(`Stopped by ${signal} after moving \\d+ of \\d+ slots \\(\\d+ keys\\); the batches under way landed`))
  expect(output).toContain('Run the same command again: it finishes the job.')
}

describe(`stopped by a signal while slots move (3x1, ${KEYS.toLocaleString('en')} keys)`, () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 252, keys: KEYS})
  }, 180_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  /**
   * Sends `signal` once keys move: the command stops cleanly (exit code, what it did, no slot open, every key kept),
   * and the same command run again exits 0.
   */
  async function stoppedThenFinished(args: string[], signal: 'SIGINT' | 'SIGTERM', exitCode: number): Promise<void> {
    const run = await runCliSignalledAt(args, MOVING, signal, {env: {KUBECONFIG: sandbox.kubeconfig}, timeoutMs: 240_000})
    expectStoppedCleanly(run, signal, exitCode)
    expect(await openSlots(sandbox)).toEqual([])
    expect(await missingKeys(sandbox, KEYS)).toBe(0)

    const again = await sandbox.cli(args, {timeoutMs: 240_000})
    expect(again.code, again.stdout + again.stderr).toBe(0)
  }

  async function expectHealthyWithEveryKey(): Promise<void> {
    const check = await sandbox.cli(['check'])
    expect(check.code, check.stdout + check.stderr).toBe(0)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }

  it('scale out (3 to 4) with Ctrl-C: exits 130 with no slot open and every key kept; the same command again finishes', async () => {
    await stoppedThenFinished(['scale', '--masters', '4'], 'SIGINT', 130)
    const masters = (await statusNodes(sandbox)).filter((n) => n.role === 'master')
    expect(masters.map((m) => m.slotCount).sort((a, b) => a - b)).toEqual([4096, 4096, 4096, 4096])
    await expectHealthyWithEveryKey()
  }, 600_000)

  it('scale in (4 to 3) with SIGTERM: exits 143 with no slot open and every key kept; the same command again finishes', async () => {
    await stoppedThenFinished(['scale', '--masters', '3', '--yes'], 'SIGTERM', 143)
    expect((await pods(sandbox, SELECTOR)).map((p) => p.name)).toEqual(Array.from({length: 6}, (_, i) => `redis-cluster-${i}`))
    await expectHealthyWithEveryKey()
  }, 600_000)
})

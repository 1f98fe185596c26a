import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runCliKilledAt, runCliKilledWithSlotsOpen, type KilledRun} from '../support/cli.js'
import {missingKeys, redisCliCheckPasses, SELECTOR, statusNodes, writeKeys} from './cluster-data.js'
import {names, pods, startE2eSandbox, type E2eSandbox} from './e2e-support.js'

/**
 * Killed with SIGKILL (nothing runs on the way out: no SIGTERM handler, no cleanup) at a step boundary or while
 * keys move, then the same command run again: it finishes the job, check passes and no key is lost.
 */

const KEYS = 50_000

/** A line of the plain (CI) renderer that a step printed when it finished. */
const FINISHED = (title: string): RegExp => new RegExp(`^✔ ${title}`)
/** Killed while some node of the cluster shows a slot MIGRATING or IMPORTING. */
const SLOTS_OPEN = 'while slots are open'
const selectorOf = (name: string): string => `app.kubernetes.io/instance=${name}`

describe('killed with SIGKILL, then the same command run again', () => {
  let sandbox: E2eSandbox
  const timings: string[] = []

  /**
   * Runs the command until the kill point and proves it died there; killed with slots open, it also proves that check finds
   * them. Then runs the same command again to the end.
   */
  async function killThenRerun(args: string[], killWhen: RegExp | typeof SLOTS_OPEN): Promise<{killed: KilledRun; rerunMs: number}> {
    const env = {KUBECONFIG: sandbox.kubeconfig}
    const killed = killWhen === SLOTS_OPEN
      ? await runCliKilledWithSlotsOpen(args, (await pods(sandbox, SELECTOR)).map((p) => ({host: p.ip!, port: 6379})), {env})
      : await runCliKilledAt(args, killWhen, {env})
    expect(killed.killed, `expected a kill ${killWhen}, but the CLI ended (${killed.code}):\n${killed.stdout}${killed.stderr}`).toBe(true)
    if (killWhen === SLOTS_OPEN) {
      const check = await sandbox.cli(['check', '--json'])
      expect(check.code, check.stdout).toBe(10)
      expect(JSON.parse(check.stdout)).toMatchObject({findings: expect.arrayContaining([expect.objectContaining({code: 'open-slots'})])})
    }
    const started = Date.now()
    const again = await sandbox.cli(args, {timeoutMs: 180_000})
    const rerunMs = Date.now() - started
    expect(again.code, `the run after the kill at "${killed.at}" failed:\n${again.stdout}${again.stderr}`).toBe(0)
    timings.push(`${args.join(' ')} | killed at "${killed.at}" | re-run ${rerunMs} ms`)
    return {killed, rerunMs}
  }

  async function expectConverged(name: string, masters: number): Promise<void> {
    const check = await sandbox.cli(['check', '--name', name])
    expect(check.code, check.stdout + check.stderr).toBe(0)
    expect(await redisCliCheckPasses(sandbox, selectorOf(name))).toBe(true)
    const nodes = await statusNodes(sandbox, name)
    expect(nodes).toHaveLength(masters * 2)
    expect(nodes.filter((n) => n.role === 'master' && n.slotCount > 0)).toHaveLength(masters)
  }

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 253})
  }, 60_000)

  afterAll(async () => {
    if (timings.length > 0) console.log(`crash-resume timings:\n  ${timings.join('\n  ')}`)
    await sandbox?.down()
  })

  describe('cluster create (3x1)', () => {
    const createKilled = async (name: string, killWhen: RegExp): Promise<void> => {
      await killThenRerun(['cluster', 'create', '--name', name], killWhen)
      await expectConverged(name, 3)
      const down = await sandbox.cli(['teardown', '--name', name, '--with-pvcs', '--yes'])
      expect(down.code, down.stdout + down.stderr).toBe(0)
    }

    it('killed right after the manifests were applied: the same command again forms the cluster', async () => {
      await createKilled('applied', FINISHED('Created ConfigMap'))
    }, 120_000)

    it('killed after slots were assigned but before the nodes met: the same command again forms the cluster', async () => {
      await createKilled('assigned', FINISHED('Give every node its own config epoch'))
    }, 120_000)

    it('killed after replicas were attached, before they synced: the same command again forms the cluster', async () => {
      await createKilled('attached', FINISHED('Attach replicas to their masters'))
    }, 120_000)
  })

  describe(`scale, with ${KEYS.toLocaleString('en')} keys written first`, () => {
    beforeAll(async () => {
      const created = await sandbox.cli(['cluster', 'create', '--masters', '3'])
      if (created.code !== 0) throw new Error(`create failed: ${created.stdout}${created.stderr}`)
      // On new pods the step that mends kept volumes is skipped for a reason true of them, not "knows the others".
      expect(created.stdout).toContain("↓ Introduce the nodes to each other at their pods' current addresses [SKIPPED: no node remembers another at an old address]")
      await writeKeys(sandbox, KEYS)
    }, 90_000)

    const expectEveryKeyAndShape = async (masters: number): Promise<void> => {
      await expectConverged('redis-cluster', masters)
      expect((await pods(sandbox, SELECTOR)).map((p) => p.name)).toEqual(Array.from({length: masters * 2}, (_, i) => `redis-cluster-${i}`))
      expect(await missingKeys(sandbox, KEYS)).toBe(0)
    }

    it('scale out (3 to 4) killed right after the StatefulSet grew: the same command again finishes, every key kept', async () => {
      await killThenRerun(['scale', '--masters', '4'], FINISHED('Scaled the StatefulSet'))
      await expectEveryKeyAndShape(4)
    }, 150_000)

    it('scale out (4 to 5) killed after the new pods joined, before any slot moved: the same command again finishes, every key kept', async () => {
      await killThenRerun(['scale', '--masters', '5'], FINISHED('Attach replicas to their masters'))
      await expectEveryKeyAndShape(5)
    }, 150_000)

    it('scale out (5 to 6) killed while keys move: the same command again finishes the open slots, every key kept', async () => {
      await killThenRerun(['scale', '--masters', '6'], SLOTS_OPEN)
      await expectEveryKeyAndShape(6)
    }, 150_000)

    it('scale in (6 to 5) killed while slots move off the master that goes: the same command again finishes, every key kept', async () => {
      await killThenRerun(['scale', '--masters', '5', '--yes'], SLOTS_OPEN)
      await expectEveryKeyAndShape(5)
    }, 150_000)

    it('scale in (5 to 4) killed after the removed nodes were forgotten, before the StatefulSet shrank: the same command again finishes, every key kept', async () => {
      await killThenRerun(['scale', '--masters', '4', '--yes'], FINISHED('Forget the nodes of the removed pods'))
      await expectEveryKeyAndShape(4)
    }, 150_000)

    it('scale in (4 to 3) --delete-pvcs killed right after the StatefulSet shrank: the same command again deletes the PVCs, every key kept', async () => {
      await killThenRerun(['scale', '--masters', '3', '--delete-pvcs', '--yes'], FINISHED('Scaled the StatefulSet down'))
      await expectEveryKeyAndShape(3)
      expect(await names(sandbox, 'pvc')).toEqual(Array.from({length: 6}, (_, i) => `persistentvolumeclaim/data-redis-cluster-${i}`))
    }, 150_000)
  })
})

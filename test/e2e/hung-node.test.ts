import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import type {CheckResult} from '../../src/commands/check.js'
import type {StatusResult} from '../../src/commands/status.js'
import {json, runCliSignalledAfter} from '../support/cli.js'
import {logKubeRequests} from '../support/kube-requests.js'
import {startClusterWithKeys, statusNodes} from './cluster-data.js'
import {redisServerProcesses, waitFor, type E2eSandbox} from './e2e-support.js'

/**
 * One redis-server frozen with kill -STOP: it keeps its TCP port open (the kernel still accepts connections) but
 * answers nothing, as a blackholed pod IP does on a real cluster. status and check answer within their --timeout,
 * name the pod and claim nothing from it.
 */

/** Far above --timeout 3s plus a CLI start at load 13 on 2 cores; without a bound on each command they never end. */
const ANSWERS_WITHIN_MS = 90_000

describe('one redis-server stopped with kill -STOP (3x1)', () => {
  let sandbox: E2eSandbox
  let stopped: number | undefined

  /** Freezes the redis-server of a master that owns slots (or of a replica); returns its pod. */
  async function stopA(role: 'master' | 'replica' = 'master'): Promise<string> {
    const node = (await statusNodes(sandbox)).find((n) => n.role === role && (role === 'replica' || n.slotCount > 0))!
    // Redis sets its process title to "redis-server <ip>:<port> [cluster]"; each pod has its own IP.
    const [server] = (await redisServerProcesses()).filter((p) => p.cmdline.includes(`redis-server ${node.ip}:6379 `))
    process.kill(server.pid, 'SIGSTOP')
    stopped = server.pid
    return node.pod
  }

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 54, keys: 1000})
  }, 180_000)

  afterEach(async () => {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT')
    stopped = undefined
    // The frozen master may have been failed over meanwhile: it comes back as a replica, and check passes again.
    await waitFor('check to pass again', async () => (await sandbox.cli(['check'])).code === 0, 120_000)
  }, 180_000)

  afterAll(async () => {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT')
    await sandbox?.down()
  })

  it('status --timeout 3s answers, shows the pod as not answering and claims nothing from it (exit 0)', async () => {
    const pod = await stopA()

    const started = Date.now()
    const status = await sandbox.cli(['status', '--timeout', '3s', '--json'], {timeoutMs: ANSWERS_WITHIN_MS})

    expect(status.code, `${Date.now() - started} ms\n${status.stdout}${status.stderr}`).toBe(0)
    const result = json<StatusResult>(status)
    expect(result.summary).toMatchObject({answered: 5, nodes: 6, silent: [pod]})
    const node = result.nodes.find((n) => n.pod === pod)
    expect(node).toMatchObject({membership: 'did-not-answer', error: expect.stringMatching(/did not answer within 3 s/)})
    expect(node?.keys).toBeUndefined()
    expect(node?.usedMemoryBytes).toBeUndefined()
  }, 120_000)

  it('status -l --timeout 3s, against a Kubernetes API that takes 2 s over each answer, stops at 3 s with exit 6 naming the request it waited for', async () => {
    // -l: the pods are listed to name the cluster, then the Nodes for their zones; each answer within 3 s, both not.
    const slowApi = await logKubeRequests(sandbox.kubeconfig, {delayMs: 2000})
    try {
      const status = await sandbox.cli(['status', '-l', 'app.kubernetes.io/instance=redis-cluster', '--timeout', '3s', '--json'],
        {env: {KUBECONFIG: slowApi.kubeconfig}, timeoutMs: ANSWERS_WITHIN_MS})

      expect(status.code, status.stdout + status.stderr).toBe(6)
      expect(json<{error: {kind: string; message: string}}>(status).error).toMatchObject({
        kind: 'kubeUnreachable', message: expect.stringMatching(/did not answer within 3 s while listing the Kubernetes nodes/),
      })
    } finally {
      await slowApi.close()
    }
  }, 120_000)

  it('Ctrl-C while status --json waits on the silent pod: exit 130 and the error as JSON on stdout, as every failure under --json', async () => {
    await stopA()

    // Well past the CLI's start-up at load, well before the 60 s it would wait for the silent pod.
    const status = await runCliSignalledAfter(['status', '--timeout', '60s', '--json'], 8_000, 'SIGINT', {env: {KUBECONFIG: sandbox.kubeconfig}})

    expect(status.code, status.stdout + status.stderr).toBe(130)
    expect(json<{error: {kind: string; exitCode: number}}>(status).error).toMatchObject({kind: 'interrupted', exitCode: 130})
  }, 120_000)

  it('check --timeout 3s answers with an error naming the pod and what it was given, and exits 10', async () => {
    const pod = await stopA()

    const started = Date.now()
    const check = await sandbox.cli(['check', '--timeout', '3s', '--json'], {timeoutMs: ANSWERS_WITHIN_MS})

    expect(check.code, `${Date.now() - started} ms\n${check.stdout}${check.stderr}`).toBe(10)
    const result = json<CheckResult>(check)
    expect(result.healthy).toBe(false)
    expect(result.summary.silent).toEqual([pod])
    expect(result.findings).toContainEqual(expect.objectContaining({
      code: 'unreachable', severity: 'error', pods: [pod], message: expect.stringMatching(new RegExp(`^${pod} \\(127\\.54\\.[\\d.]+:6379\\) did not answer within 3 s`)),
    }))
  }, 120_000)

  it('repair with a replica frozen: the dry run and the run both exit 10 with the same refusal naming it, and the run skips every phase', async () => {
    const pod = await stopA('replica')

    const dry = await sandbox.cli(['repair', '--dry-run', '--json'], {timeoutMs: ANSWERS_WITHIN_MS})
    expect(dry.code, dry.stdout + dry.stderr).toBe(10)
    const planned = json<{refused: Array<{problem: string}>}>(dry).refused
    expect(planned.map((r) => r.problem).join(' ')).toContain(`${pod} did not answer`)

    const run = await sandbox.cli(['repair'], {timeoutMs: ANSWERS_WITHIN_MS})
    expect(run.code, run.stdout + run.stderr).toBe(10)
    expect(run.stdout).toContain(`refused: ${planned[0].problem}`)
    expect(run.stdout).toContain('nothing repair could do')
  }, 120_000)

  it('--timeout takes the forms kubectl takes: 5m works, a word is refused (exit 2)', async () => {
    const fiveMinutes = await sandbox.cli(['status', '--timeout', '5m'])
    expect(fiveMinutes.code, fiveMinutes.stderr).toBe(0)
    const word = await sandbox.cli(['check', '--timeout', 'soon', '--json'])
    expect(word.code).toBe(2)
    expect(json<{error: {kind: string; message: string}}>(word).error).toMatchObject({
      kind: 'usage', message: expect.stringContaining('"soon" is not a duration: use seconds (300), or a number with a unit: 1500ms, 30s, 5m'),
    })
  }, 120_000)
})

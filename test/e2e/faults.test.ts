import {spawn} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CLI, json} from '../support/cli.js'
import {missingKeys, SELECTOR, startClusterWithKeys} from './cluster-data.js'
import {isAlive, pods, redisCli, redisServerProcesses, waitFor, type E2eSandbox} from './e2e-support.js'

const KEYS = 300_000

interface StatusNode {pod: string; ip: string; role?: string; slotCount: number}

async function masters(sandbox: E2eSandbox): Promise<StatusNode[]> {
  const status = await sandbox.cli(['status', '--json'])
  expect(status.code, status.stderr).toBe(0)
  return json<{nodes: StatusNode[]}>(status).nodes.filter((n) => n.role === 'master' && n.slotCount > 0)
}

/** Polls `redisctl check` until it exits 0 (warnings allowed); returns how long that took. */
async function checkPasses(sandbox: E2eSandbox, timeoutMs = 60_000): Promise<number> {
  const started = Date.now()
  await waitFor('check to exit 0', async () => (await sandbox.cli(['check'])).code === 0, timeoutMs)
  return Date.now() - started
}

/** Starts the CLI and calls `onLine` with each line it prints, as it prints it. */
function startCli(sandbox: E2eSandbox, args: string[], onLine: (line: string) => void): Promise<{code: number | null; output: string}> {
  const child = spawn(process.execPath, [CLI, ...args], {env: {...process.env, CI: 'true', KUBECONFIG: sandbox.kubeconfig}, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  const read = (d: Buffer): void => {
    const text = d.toString()
    output += text
    for (const line of text.split('\n')) if (line) onLine(line)
  }
  child.stdout.on('data', read)
  child.stderr.on('data', read)
  return new Promise((resolve) => child.once('close', (code) => resolve({code, output})))
}

describe('faults on the sandbox, 3x1 with 300,000 keys', () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 247, keys: KEYS})
    // appendfsync everysec: a write is on disk within a second; a SIGKILL may lose what is younger.
    await new Promise((resolve) => setTimeout(resolve, 1500))
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('a killed master redis-server is restarted by the kubelet in place; the cluster recovers, check and repair pass, no key lost', async () => {
    const [master] = await masters(sandbox)
    const ip = master.ip
    // Redis sets its process title to "redis-server <ip>:<port> [cluster]"; each pod has its own IP.
    const servers = (await redisServerProcesses()).filter((p) => p.cmdline.includes(`redis-server ${ip}:6379 `))
    expect(servers).toHaveLength(1)

    process.kill(servers[0].pid, 'SIGKILL')
    await waitFor('the process to be gone', async () => !isAlive(servers[0].pid))

    const restarted = await waitFor(`${master.pod} restarted in place`, async () => {
      const pod = (await pods(sandbox, SELECTOR)).find((p) => p.name === master.pod)
      const got = await sandbox.kubectl(['get', 'pod', master.pod, '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])
      return pod?.ready && Number(got.stdout) >= 1 ? pod : undefined
    })
    expect(restarted.ip).toBe(ip)
    await checkPasses(sandbox)
    const repaired = await sandbox.cli(['repair', '--json'])
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
    expect(json<{refused: unknown[]}>(repaired).refused).toEqual([])
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 120_000)

  it('repair on a cluster where a restarted replica is still loading its data waits for it instead of calling it damage (exit 0)', async () => {
    // Loading 100,000 keys takes a few ms; a per-key delay (a Redis test setting) stretches it to seconds.
    const setting = async (key: string, value: string): Promise<void> => {
      const set = await sandbox.cli(['config', 'set', key, value])
      expect(set.code, set.stdout + set.stderr).toBe(0)
    }
    await setting('key-load-delay', '10')
    await setting('loading-process-events-interval-bytes', '1024')
    try {
      const replica = (await sandbox.cli(['status', '--json']).then((r) => json<{nodes: StatusNode[]}>(r).nodes)).find((n) => n.role === 'replica')!
      const [server] = (await redisServerProcesses()).filter((p) => p.cmdline.includes(`redis-server ${replica.ip}:6379 `))
      const configFile = /config_file:(\S+)/.exec((await redisCli(['-h', replica.ip, 'INFO', 'server'])).stdout)![1]
      await waitFor('the kubelet to refresh the mounted redis.conf', async () => (await readFile(configFile, 'utf8')).includes('key-load-delay'))
      process.kill(server.pid, 'SIGKILL')
      await waitFor(`${replica.pod} to answer LOADING`, async () => /LOADING/.test((await redisCli(['-h', replica.ip, 'PING'])).stdout), 60_000)

      const repaired = await sandbox.cli(['repair', '--json'])
      expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
      expect(json<{refused: unknown[]}>(repaired).refused).toEqual([])
    } finally {
      await setting('key-load-delay', '0')
      await setting('loading-process-events-interval-bytes', '2097152')
    }
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 180_000)

  it('a pod deleted in the middle of slots rebalance: the command stops with what to run; repair and a re-run converge, no key lost', async () => {
    const [target] = await masters(sandbox)
    const args = ['slots', 'rebalance', '--weight', `${target.pod}=3`]
    let deleted: Promise<unknown> | undefined
    let progressWhenDeleted = ''
    const run = await startCli(sandbox, args, (line) => {
      if (!deleted && /keys moved/.test(line)) {
        progressWhenDeleted = line
        deleted = sandbox.kubectl(['delete', 'pod', target.pod, '--wait=false'])
      }
    })
    await deleted
    expect(progressWhenDeleted).toMatch(/\d+\/\d+ slots/)

    // Either it waited and went on, or it stopped with a documented exit code saying what to run.
    if (run.code !== 0) {
      expect([4, 5, 7], run.output).toContain(run.code)
      // Said once, by the command, which wraps it: joined again here.
      expect(run.output.replaceAll(/\s*›\s*/g, ' ')).toContain('redisctl repair')
    }
    await waitFor('every pod Ready again', async () => {
      const now = await pods(sandbox, SELECTOR)
      return now.length === 6 && now.every((p) => p.ready && p.ip) && now.find((p) => p.name === target.pod)?.ip !== target.ip
    })

    const repaired = await sandbox.cli(['repair'])
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
    const again = await sandbox.cli(args)
    expect(again.code, again.stdout + again.stderr).toBe(0)
    await checkPasses(sandbox)
    const weighted = (await masters(sandbox)).find((m) => m.pod === target.pod)
    expect(weighted?.slotCount).toBeGreaterThan(9000)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 180_000)
})

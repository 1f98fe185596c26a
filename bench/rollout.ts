/**
 * Restarting every pod of a 3x1 cluster under writes, redisctl against the controller:
 *   node --import tsx bench/rollout.ts [--keys 20000] [--writers 6] [--rate 600]
 * Each contender gets a fresh cluster (cluster-node-timeout 5000) holding the same keys, and the same writers:
 * - redisctl: `redisctl restart` (OnDelete; replicas first, each master after a planned CLUSTER FAILOVER);
 * - controller: the StatefulSet switched to RollingUpdate, `kubectl rollout restart statefulset`, then
 *   `kubectl rollout status` until the controller is done, then until `redis-cli --cluster check` is clean.
 * Per shard (by the slots each master had before the roll): the longest gap between two acknowledged writes and the
 * writes that failed as the client saw them; then every acknowledged write read back (lost writes).
 * Needs `npm run build` first (it runs bin/run.js) and kubectl.
 */
import {execFile, execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs, promisify} from 'node:util'

import {Cluster} from 'ioredis'

const run = promisify(execFile)
const {values} = parseArgs({options: {keys: {type: 'string', default: '20000'}, writers: {type: 'string', default: '6'}, rate: {type: 'string', default: '600'}}})
const KEYS = Number(values.keys)
const WRITERS = Number(values.writers)
const RATE = Number(values.rate)
/** The slot ranges cluster create gives three masters. */
const SHARD_ENDS = [5460, 10922, 16383]
const KEYS_PER_WRITER = 500
const writerKey = (w: number, i: number): string => `w:${w}:${i}`

const dir = mkdtempSync(join(tmpdir(), 'redisctl-bench-rollout-'))
const up = JSON.parse(execFileSync(process.execPath, ['bin/run.js', 'sandbox', 'up', '--dir', dir, '--pod-ip-range', '127.152.0.0/16', '--json'], {encoding: 'utf8'})) as {kubeconfig: string}
const env = {...process.env, KUBECONFIG: up.kubeconfig}
const cli = async (args: string[]): Promise<string> => (await run(process.execPath, ['bin/run.js', ...args], {env, maxBuffer: 64 << 20})).stdout
const kubectl = async (args: string[]): Promise<string> => (await run('kubectl', args, {env, maxBuffer: 64 << 20})).stdout

async function podIps(name: string): Promise<string[]> {
  const list = JSON.parse(await kubectl(['get', 'pods', '-l', `app.kubernetes.io/instance=${name}`, '-o', 'json'])) as {items: Array<{status: {podIP?: string}}>}
  return list.items.map((p) => p.status.podIP ?? '').filter(Boolean)
}

const client = (ips: string[]): Cluster => new Cluster(ips.map((host) => ({host, port: 6379})), {
  scaleReads: 'master', maxRedirections: 32, retryDelayOnMoved: 0, retryDelayOnClusterDown: 100, retryDelayOnTryAgain: 50,
  redisOptions: {maxRetriesPerRequest: 2, connectTimeout: 2000, commandTimeout: 2000},
})

interface Writes {
  stop(): Promise<{gapsMs: number[]; errors: number[]; acknowledged: number; lost: number}>
}

/** WRITERS workers writing their own keys in turn at RATE writes/s in all; each key's last acknowledged value is kept. */
async function startWrites(ips: string[]): Promise<Writes> {
  const cluster = client(ips)
  const keys = Array.from({length: WRITERS * KEYS_PER_WRITER}, (_, n) => writerKey(Math.floor(n / KEYS_PER_WRITER), n % KEYS_PER_WRITER))
  const slots = await Promise.all(keys.map(async (key) => Number(await cluster.call('CLUSTER', 'KEYSLOT', key))))
  const shards = new Map(keys.map((key, n) => [key, SHARD_ENDS.findIndex((end) => slots[n] <= end)]))
  const lastOk = SHARD_ENDS.map(() => Date.now())
  const gapsMs = SHARD_ENDS.map(() => 0)
  const errors = SHARD_ENDS.map(() => 0)
  const acknowledged = new Map<string, string>()
  const maybe = new Map<string, Set<string>>()
  let stopped = false
  const pause = (WRITERS * 1000) / RATE
  const worker = async (w: number): Promise<void> => {
    for (let seq = 0; !stopped; seq++) {
      const began = Date.now()
      const key = writerKey(w, seq % KEYS_PER_WRITER)
      const shard = shards.get(key)!
      const value = `${seq}`
      try {
        await cluster.set(key, value)
        const now = Date.now()
        gapsMs[shard] = Math.max(gapsMs[shard], now - lastOk[shard])
        lastOk[shard] = now
        acknowledged.set(key, value)
        maybe.delete(key)
      } catch {
        errors[shard]++
        maybe.set(key, (maybe.get(key) ?? new Set()).add(value))
      }
      await new Promise((r) => setTimeout(r, Math.max(0, pause - (Date.now() - began))))
    }
  }
  const running = Promise.all(Array.from({length: WRITERS}, (_, w) => worker(w)))
  return {
    async stop() {
      stopped = true
      await running
      let lost = 0
      for (const [key, value] of acknowledged) {
        const got = await cluster.get(key)
        if (got !== value && !maybe.get(key)?.has(got ?? '')) lost++
      }
      cluster.disconnect()
      return {gapsMs, errors, acknowledged: acknowledged.size, lost}
    },
  }
}

async function freshCluster(name: string): Promise<void> {
  await cli(['cluster', 'create', '--name', name, '--masters', '3'])
  const cluster = new Cluster((await podIps(name)).map((host) => ({host, port: 6379})))
  for (let start = 0; start < KEYS; start += 5000) {
    await Promise.all(Array.from({length: Math.min(5000, KEYS - start)}, (_, j) => cluster.set(`key:${start + j}`, `${start + j}:`.padEnd(100, 'x'))))
  }
  cluster.disconnect()
}

async function untilChecked(name: string): Promise<void> {
  for (;;) {
    const [entry] = await podIps(name)
    const check = await run('redis-cli', ['--cluster', 'check', `${entry}:6379`]).then((r) => r.stdout, (error: {stdout?: string}) => error.stdout ?? '')
    if (check.includes('[OK] All 16384 slots covered') && !check.includes('[ERR]') && !check.includes('[WARNING]')) return
    await new Promise((r) => setTimeout(r, 200))
  }
}

const contenders: Array<{label: string; name: string; roll: (name: string) => Promise<void>}> = [
  {label: 'redisctl restart', name: 'by-redisctl', roll: async (name) => {
    await cli(['restart', '--name', name, '--timeout', '600'])
  }},
  {label: 'kubectl rollout restart (RollingUpdate)', name: 'by-kubectl', roll: async (name) => {
    await kubectl(['patch', 'statefulset', name, '--type', 'merge', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}}}}'])
    await kubectl(['rollout', 'restart', `statefulset/${name}`])
    await kubectl(['rollout', 'status', `statefulset/${name}`, '--timeout', '600s'])
  }},
]

const rows: string[] = []
try {
  for (const {label, name, roll} of contenders) {
    await freshCluster(name)
    const writes = await startWrites(await podIps(name))
    await new Promise((r) => setTimeout(r, 2000))
    const started = performance.now()
    await roll(name)
    await untilChecked(name)
    const seconds = (performance.now() - started) / 1000
    await new Promise((r) => setTimeout(r, 2000))
    const result = await writes.stop()
    rows.push(`| ${label} | ${seconds.toFixed(1)} | ${result.gapsMs.map((g) => (g / 1000).toFixed(2)).join(' / ')} | ${result.errors.join(' / ')} | ${result.acknowledged} | ${result.lost} |`)
    await cli(['teardown', '--name', name, '--with-pvcs', '--yes'])
  }
  console.log(`3x1, ${KEYS} keys, ${WRITERS} writers at ${RATE} writes/s, cluster-node-timeout 5000\n`)
  console.log('| roll | seconds to clean check | longest write gap per shard (s) | failed writes per shard | keys acknowledged | lost |')
  console.log('| --- | ---: | --- | --- | ---: | ---: |')
  for (const row of rows) console.log(row)
} finally {
  execFileSync(process.execPath, ['bin/run.js', 'sandbox', 'down', '--dir', dir, '--purge'])
  rmSync(dir, {recursive: true, force: true})
}

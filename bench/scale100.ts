/**
 * 100 masters with 1 replica each on the sandbox (200 real redis-server processes), through the built CLI:
 * `cluster create`, `status`, `check`, `scale --masters 101` and back to 100, each timed (wall time, and peak RSS of
 * the CLI process under /usr/bin/time). While create runs, the bench reads every pod's node itself every second to
 * time the finish lines: formed (every node knows every node and agrees on the slot map) and cluster_state:ok on
 * every node. Self-contained: its own sandbox (`sandbox up --dir` in a temporary folder), stopped at the end.
 *
 *   node --import tsx bench/scale100.ts [--masters 100] [--nodes 10] [--pod-ip-range 127.62.0.0/16]
 *
 * Needs `npm run build` first, /usr/bin/time, and ~3 MB of memory per redis-server.
 */
import {spawn, execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs} from 'node:util'

import {CoreV1Api, KubeConfig} from '@kubernetes/client-node'

import {RedisConnector} from '../src/redis/connection.js'
import {observeCluster} from '../src/redis/observe.js'
import {isTentative, slotMapSignature} from '../src/topology/observation.js'

const {values} = parseArgs({options: {masters: {type: 'string', default: '100'}, nodes: {type: 'string', default: '10'}, 'pod-ip-range': {type: 'string', default: '127.62.0.0/16'}}})
const POD_PREFIX = values['pod-ip-range'].split('.').slice(0, 2).join('.') + '.'
const MASTERS = Number(values.masters)
const CLI = resolve('bin/run.js')
const dir = mkdtempSync(join(tmpdir(), 'redisctl-bench-scale100-'))
const env = {...process.env, CI: 'true', KUBECONFIG: join(dir, 'kubeconfig')}

interface Run {
  seconds: number
  peakRssMb: number
  stdout: string
}

function timed(args: string[]): Promise<Run> {
  const started = performance.now()
  const child = spawn('/usr/bin/time', ['-f', 'peak-rss-kb %M', process.execPath, CLI, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  return new Promise((resolve, reject) => child.on('close', (code) => {
    const rss = /peak-rss-kb (\d+)/.exec(stderr)
    if (code !== 0 || !rss) reject(new Error(`redisctl ${args.join(' ')} exited with ${code}:\n${stdout.slice(-3000)}${stderr.slice(-3000)}`))
    else resolve({seconds: (performance.now() - started) / 1000, peakRssMb: Number(rss[1]) / 1024, stdout})
  }))
}

/** Polls the pods' nodes until the cluster is formed and ok everywhere, or `stop` resolves; times from `started`. */
async function watchCreate(started: number, count: number, stop: Promise<unknown>): Promise<{formed?: number; ok?: number}> {
  const kc = new KubeConfig()
  kc.loadFromFile(env.KUBECONFIG)
  const core = kc.makeApiClient(CoreV1Api)
  const connector = new RedisConnector({connectTimeoutMs: 1000})
  const marks: {formed?: number; ok?: number} = {}
  let stopped = false
  void stop.finally(() => { stopped = true })
  try {
    while (!stopped && marks.ok === undefined) {
      // Not faster: 200 nodes read every 10 ms took the 2 cores (bench/README.md "Forming").
      await new Promise((r) => setTimeout(r, 1000))
      // A busy API server or a node not up yet is only a missed poll.
      await poll().catch(() => undefined)
    }
  } finally {
    await connector.closeAll()
  }
  return marks

  async function poll(): Promise<void> {
    const pods = (await core.listNamespacedPod({namespace: 'default', labelSelector: 'app.kubernetes.io/instance=redis-cluster'})).items
    const addresses = pods.flatMap((p) => (p.status?.podIP ? [{host: p.status.podIP, port: 6379}] : []))
    if (addresses.length === count) {
      const {views} = await observeCluster(connector, addresses)
      const formed = views.length === count && new Set(views.map(slotMapSignature)).size === 1 &&
        views.every((v) => v.nodes.filter((n) => !isTentative(n)).length === count) && views[0].nodes.some((n) => n.slots.length > 0)
      if (formed && marks.formed === undefined) marks.formed = (performance.now() - started) / 1000
      if (formed && views.every((v) => v.info.state === 'ok')) marks.ok = (performance.now() - started) / 1000
    }
  }
}

/** RSS of this sandbox's redis-server processes (by the pod IP in their process title, `redis-server IP:6379 [cluster]`). */
function redisServersRssMb(): number {
  const lines = execFileSync('ps', ['-eo', 'rss=,args='], {encoding: 'utf8'}).split('\n')
  return lines.filter((l) => /redis-server \S+:\d+/.test(l) && l.includes(` ${POD_PREFIX}`)).reduce((kb, l) => kb + Number(l.trim().split(/\s+/)[0]), 0) / 1024
}

/** Each pod's role and master as status reports them: what a failover changes. */
async function roles(): Promise<Map<string, string>> {
  const status = JSON.parse((await timed(['status', '--json'])).stdout) as {nodes: Array<{pod?: string; role?: string; masterPod?: string}>}
  return new Map(status.nodes.flatMap((n) => (n.pod ? [[n.pod, n.role === 'replica' ? `replica of ${n.masterPod}` : String(n.role)] as const] : [])))
}

const rows: string[] = []
const row = (what: string, run: Run, note = ''): void => {
  rows.push(`| ${what} | ${run.seconds.toFixed(1)} s | ${run.peakRssMb.toFixed(0)} MB | ${note} |`)
  // Each row as it comes: a run stopped halfway keeps its figures.
  console.error(rows.at(-1))
}

const load = loadavg()[0]
try {
  execFileSync(process.execPath, [CLI, 'sandbox', 'up', '--dir', dir, '--nodes', values.nodes!, '--pod-ip-range', values['pod-ip-range']], {env})
  const started = performance.now()
  const create = timed(['cluster', 'create', '--masters', String(MASTERS), '--replicas-per-master', '1', '--timeout', '1800', '--yes', '--json'])
  const [created, marks] = await Promise.all([create, watchCreate(started, MASTERS * 2, create)])
  row(`cluster create ${MASTERS}x1`, created, `formed at ${marks.formed?.toFixed(1) ?? '?'} s, cluster_state:ok everywhere at ${marks.ok?.toFixed(1) ?? '?'} s`)
  const redisMb = redisServersRssMb()
  for (let i = 0; i < 3; i++) row('status', await timed(['status', '--json']))
  const check = await timed(['check', '--json'])
  row('check', check, `${(JSON.parse(check.stdout) as {findings: unknown[]}).findings.length} findings`)
  const rolesBefore = await roles()
  // A scale that fails says which nodes changed role meanwhile (a failover the scale did not plan), then stops the bench.
  row(`scale --masters ${MASTERS + 1}`, await timed(['scale', '--masters', String(MASTERS + 1), '--timeout', '1800', '--yes', '--json'])
    .catch(async (error: unknown) => {
      const after = await roles()
      const changed = [...after].filter(([pod, role]) => rolesBefore.has(pod) && rolesBefore.get(pod) !== role)
      console.error(`roles changed during the scale: ${changed.map(([pod, role]) => `${pod} ${rolesBefore.get(pod)} -> ${role}`).join(', ') || 'none'}`)
      console.error(`new pods: ${[...after].filter(([pod]) => !rolesBefore.has(pod)).map(([pod, role]) => `${pod} ${role}`).join(', ')}`)
      throw error
    }))
  row(`scale --masters ${MASTERS}`, await timed(['scale', '--masters', String(MASTERS), '--timeout', '1800', '--yes', '--json']))
  const after = await timed(['check', '--json'])
  row('check after scaling back', after, `${(JSON.parse(after.stdout) as {findings: unknown[]}).findings.length} findings`)
  console.log(`\n${MASTERS} masters x 1 replica on the sandbox (${values.nodes} Kubernetes nodes), the built CLI; load average ${load.toFixed(1)} -> ${loadavg()[0].toFixed(1)}; ` +
    `the pods' redis-server processes: ${redisMb.toFixed(0)} MB RSS in all, ${(redisMb / (MASTERS * 2)).toFixed(1)} MB each\n`)
  console.log('| command | wall | CLI peak RSS | note |\n|---|---:|---:|---|')
  for (const r of rows) console.log(r)
} finally {
  try {
    execFileSync(process.execPath, [CLI, 'sandbox', 'down', '--dir', dir, '--purge'], {env})
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

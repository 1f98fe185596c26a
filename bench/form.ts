/**
 * Forming a cluster with redisctl vs `redis-cli --cluster create`, on the same redis-server processes in the same
 * run, and `redisctl cluster create` end to end on the sandbox.
 *
 *   node --import tsx bench/form.ts [--rounds 3] [--baseline DIR] [--only library|sandbox] [--masters 3,30]
 *
 * library: the forming steps (src/redis/form.ts) as `cluster create` runs them, on plain redis-server processes
 * (cluster-node-timeout 5000, as redisctl's redis.conf), reset with FLUSHALL + CLUSTER RESET HARD between runs,
 * contenders alternating. Each run is timed to three finish lines, checked by the same probe for every tool:
 * formed (every node knows every node, the slot map agreed, replicas attached), `cluster_state:ok` on every node,
 * and the tool's own end (redisctl's waits for every replica in sync). After each redisctl run the bench checks
 * that nothing was failed over: every master is the planned one and no node's current epoch went past the
 * distinct config epochs set before the nodes met (an election raises it). Above 30 masters (--masters 100: 200
 * processes, on 127.61.x) only redisctl runs: redis-cli's MEETs to one node do not converge at that size.
 * sandbox: `redisctl cluster create --masters 3 --replicas-per-master 1` through the built CLI on a fresh sandbox
 * (`sandbox up --dir` in a temporary folder), then teardown; with --baseline also DIR/bin/run.js (another checkout,
 * built), runs alternating. Needs `npm run build` first.
 */
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs} from 'node:util'

import {RedisConnector} from '../src/redis/connection.js'
import {formCluster} from '../src/redis/form.js'
import {observeCluster} from '../src/redis/observe.js'
import {isTentative, type NodeView, slotMapSignature} from '../src/topology/observation.js'
import {redisCommandTimeoutMs} from '../src/util/call-bounds.js'
import {waitUntil} from '../src/util/wait.js'
import type {ClusterLayout, PodRef} from '../src/topology/model.js'
import {placeShards} from '../src/topology/placement.js'
import {splitEvenly} from '../src/topology/slots.js'
import {type RedisNodes, startRedisNodes} from '../test/support/redis-nodes.js'

const {values} = parseArgs({options: {rounds: {type: 'string', default: '3'}, baseline: {type: 'string'}, only: {type: 'string'}, masters: {type: 'string', default: '3,30'}}})
const ROUNDS = Number(values.rounds)
const NODE_TIMEOUT_MS = 5000

function layoutFor(nodes: RedisNodes, masters: number): ClusterLayout {
  const pods: PodRef[] = nodes.nodes.map((n, i) => ({pod: `redis-${i}`, ordinal: i, ip: n.host, port: n.port}))
  const ranges = splitEvenly(masters)
  return {shards: placeShards(pods, masters, 1).shards.map((s, i) => ({...s, slots: [ranges[i]]}))}
}

/** Back to fresh nodes with the configured timeout; `syncAtOnce` is redisctl's repl-diskless-sync-max-replicas 1. */
async function reset(connector: RedisConnector, nodes: RedisNodes, syncAtOnce: boolean): Promise<void> {
  await Promise.all(nodes.nodes.map(async (n) => {
    const client = await connector.client(n)
    // A replica refuses FLUSHALL (READONLY) and a master holding keys refuses CLUSTER RESET: replicas reset first.
    const [role] = await client.role() as [string]
    if (role === 'master') await client.flushall()
    await client.call('CLUSTER', 'RESET', 'HARD')
    await client.call('CONFIG', 'SET', 'cluster-node-timeout', NODE_TIMEOUT_MS, 'repl-diskless-sync-max-replicas', syncAtOnce ? 1 : 0)
  }))
}

interface Finish {
  /** Every node knows every node, all agree on the slot map and see every replica attached to its master. */
  formed: number
  /** ... and every node reports cluster_state:ok. */
  ok: number
  /** The tool returned (redisctl: every replica in sync too). */
  done: number
}

/**
 * Polls the two finish lines for every tool every 10 ms, from `started` on, while the tool runs; at 100 masters
 * every 500 ms: 200 nodes asked for CLUSTER NODES every 10 ms took the 2 cores (load average 213) and the cluster
 * never reached cluster_state:ok.
 */
const watchIntervalMs = (masters: number): number => (masters <= 30 ? 10 : 500)

async function watchFinish(connector: RedisConnector, nodes: RedisNodes, masters: number, started: number): Promise<Omit<Finish, 'done'>> {
  let formedAt: number | undefined
  await waitUntil('the cluster to be formed', async () => {
    const views = (await observeCluster(connector, nodes.nodes)).views
    if (formedAt === undefined && isFormed(views, nodes.nodes.length, masters)) formedAt = performance.now() - started
    if (formedAt !== undefined && views.every((v) => v.info.state === 'ok')) return {done: true, value: undefined}
    return {done: false, missing: formedAt === undefined ? 'not formed' : 'cluster_state is not ok everywhere'}
  }, {timeoutMs: 60_000 + 2000 * masters, intervalMs: watchIntervalMs(masters)})
  return {formed: formedAt!, ok: performance.now() - started}
}

function isFormed(views: NodeView[], count: number, masters: number): boolean {
  if (views.length < count || new Set(views.map(slotMapSignature)).size !== 1) return false
  if (views.some((v) => v.nodes.filter((n) => !isTentative(n)).length !== count)) return false
  const replicas = views.filter((v) => v.myself.role === 'replica')
  if (replicas.length !== count - masters) return false
  return replicas.every((replica) => {
    const master = views.find((v) => v.id === replica.myself.masterId)
    return master?.replication.replicas.some((r) => r.host === replica.address.host) &&
      views.every((v) => v.nodes.some((n) => n.id === replica.id && n.role === 'replica' && n.masterId === master.id))
  })
}

async function timed(connector: RedisConnector, nodes: RedisNodes, masters: number, run: () => Promise<void>): Promise<Finish> {
  const started = performance.now()
  let done = 0
  const [finish] = await Promise.all([
    watchFinish(connector, nodes, masters, started),
    run().then(() => {
      done = performance.now() - started
    }),
  ])
  return {...finish, done}
}

let failovers = 0

async function redisctl(connector: RedisConnector, nodes: RedisNodes, masters: number, shorten: boolean): Promise<Finish> {
  const layout = layoutFor(nodes, masters)
  const started = performance.now()
  const finish = await timed(connector, nodes, masters, async () => {
    await formCluster(connector, layout, {intervalMs: watchIntervalMs(masters), configuredNodeTimeoutMs: shorten ? NODE_TIMEOUT_MS : undefined, timeoutMs: 60_000 + 1000 * masters,
      onProgress: process.env.BENCH_DEBUG ? (p) => console.log(`  ${((performance.now() - started) / 1000).toFixed(1)} s ${p.step}: ${p.message}`) : undefined})
  })
  const {views} = await observeCluster(connector, nodes.nodes)
  const planned = new Set(layout.shards.map((s) => s.master.ip))
  const masterHosts = views.filter((v) => v.myself.role === 'master').map((v) => v.address.host)
  if (masterHosts.length !== masters || masterHosts.some((h) => !planned.has(h)) || views.some((v) => v.info.currentEpoch > nodes.nodes.length)) failovers++
  if (views.some((v) => v.nodeTimeoutMs !== NODE_TIMEOUT_MS)) throw new Error('cluster-node-timeout was not restored')
  return finish
}

async function redisCli(connector: RedisConnector, nodes: RedisNodes, masters: number): Promise<Finish> {
  const args = ['--cluster', 'create', ...nodes.nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']
  return timed(connector, nodes, masters, () => new Promise<void>((resolve, reject) => {
    const child = spawn('redis-cli', args, {stdio: 'ignore'})
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli exited with ${code}`))))
  }))
}

interface Contender {
  label: string
  syncAtOnce: boolean
  run: (connector: RedisConnector, nodes: RedisNodes, masters: number) => Promise<Finish>
}

const CONTENDERS: Contender[] = [
  {label: 'redisctl', syncAtOnce: true, run: (c, n, m) => redisctl(c, n, m, true)},
  {label: 'redisctl, timeout kept', syncAtOnce: true, run: (c, n, m) => redisctl(c, n, m, false)},
  {label: 'redisctl, sync delay 5 s', syncAtOnce: false, run: (c, n, m) => redisctl(c, n, m, true)},
  {label: 'redis-cli', syncAtOnce: false, run: redisCli},
]

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ms = (x: number): string => `${x.toFixed(0)} ms`.padStart(9)

async function compare(masters: number, contenders: Contender[]): Promise<void> {
  const nodes = await startRedisNodes(masters * 2, {extraConfig: [`cluster-node-timeout ${NODE_TIMEOUT_MS}`], subnet: masters > 30 ? '127.61.0' : undefined})
  const connector = new RedisConnector({commandTimeoutMs: redisCommandTimeoutMs(masters * 2)})
  try {
    // A fresh master holds cluster_state:fail for its first 2 s (CLUSTER_WRITABLE_DELAY); no tool should pay that here.
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const load = loadavg()[0]
    failovers = 0
    const runs = new Map<Contender, Finish[]>(contenders.map((c) => [c, []]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const contender of round % 2 === 0 ? contenders : [...contenders].reverse()) {
        await reset(connector, nodes, contender.syncAtOnce)
        if (process.env.BENCH_DEBUG) console.log(`round ${round + 1}: ${contender.label}`)
        runs.get(contender)!.push(await contender.run(connector, nodes, masters))
      }
    }
    console.log(`\nform ${masters} masters x 1 replica, ${masters * 2} redis-server processes, cluster-node-timeout ${NODE_TIMEOUT_MS}; ` +
      `${ROUNDS} rounds, medians; load average ${load.toFixed(1)} -> ${loadavg()[0].toFixed(1)}; redisctl runs with a failover: ${failovers}`)
    printTable(runs)
    if (masters > 30) console.log(`redis-server CPU with the cluster formed and nobody asking (10 s): ${(await restingCpu(nodes)).toFixed(2)} cores`)
  } finally {
    await connector.closeAll()
    await nodes.stop()
  }
}

/** Cores the nodes' own heartbeats take: each node pings every other one at least every cluster-node-timeout / 2. */
async function restingCpu(nodes: RedisNodes): Promise<number> {
  // utime + stime, in clock ticks of 10 ms, fields 14 and 15 of /proc/PID/stat (11 and 12 after the command name).
  const ticks = (): number => nodes.nodes.reduce((sum, n) => {
    const fields = readFileSync(`/proc/${n.process.pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return sum + Number(fields[11]) + Number(fields[12])
  }, 0)
  const before = ticks()
  await new Promise((r) => setTimeout(r, 10_000))
  return (ticks() - before) / 100 / 10
}

function printTable(runs: Map<Contender, Finish[]>): void {
  const reference = [...runs.keys()].find((c) => c.label === 'redis-cli')
  console.log('| tool | formed | cluster_state:ok | tool done | ok: x faster than redis-cli |')
  console.log('|---|---:|---:|---:|---:|')
  for (const [contender, finishes] of runs) {
    const m = (key: keyof Finish): number => median(finishes.map((f) => f[key]))
    const ratio = reference ? `${(median(runs.get(reference)!.map((f) => f.ok)) / m('ok')).toFixed(1)}x` : '-'
    console.log(`| ${contender.label} | ${ms(m('formed'))} | ${ms(m('ok'))} | ${ms(m('done'))} | ${ratio} |`)
  }
}

/** `cluster create` end to end through the CLI on a fresh sandbox per run; each CLI given as its bin/run.js. */
function sandboxCreate(): void {
  const clis = [{label: 'redisctl', bin: resolve('bin/run.js')}, ...(values.baseline ? [{label: 'baseline', bin: join(values.baseline, 'bin/run.js')}] : [])]
  const times = new Map<string, number[]>(clis.map((c) => [c.label, []]))
  const load = loadavg()[0]
  for (let round = 0; round < ROUNDS; round++) {
    for (const cli of round % 2 === 0 ? clis : [...clis].reverse()) {
      const dir = mkdtempSync(join(tmpdir(), 'redisctl-bench-form-'))
      const run = (args: string[]): string => execFileSync(process.execPath, [cli.bin, ...args], {encoding: 'utf8', env: {...process.env, KUBECONFIG: join(dir, 'kubeconfig')}})
      try {
        run(['sandbox', 'up', '--dir', dir, '--pod-ip-range', '127.196.0.0/16'])
        const started = performance.now()
        run(['cluster', 'create', '--masters', '3', '--replicas-per-master', '1', '--yes'])
        times.get(cli.label)!.push(performance.now() - started)
        const check = JSON.parse(run(['check', '--json'])) as {findings: {code: string}[]}
        if (check.findings.length > 0) console.log(`  ${cli.label}: check after create found ${check.findings.map((f) => f.code).join(', ')}`)
      } finally {
        try {
          run(['sandbox', 'down', '--dir', dir])
        } finally {
          rmSync(dir, {recursive: true, force: true})
        }
      }
    }
  }
  console.log(`\n\`redisctl cluster create --masters 3 --replicas-per-master 1\` on a fresh sandbox, ${ROUNDS} rounds; load average ${load.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`)
  console.log('| CLI | runs | median |')
  console.log('|---|---|---:|')
  for (const [label, list] of times) console.log(`| ${label} | ${list.map((t) => (t / 1000).toFixed(2)).join(', ')} s | ${(median(list) / 1000).toFixed(2)} s |`)
}

if (values.only !== 'sandbox') {
  for (const masters of values.masters.split(',').map(Number)) {
    await compare(masters, masters <= 3 ? CONTENDERS : CONTENDERS.filter((c) => c.label === 'redisctl' || (masters <= 30 && c.label === 'redisctl, timeout kept')))
  }
}
if (values.only !== 'library') sandboxCreate()

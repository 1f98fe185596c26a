/**
 * Rebalance benchmark: redisctl against `redis-cli --cluster rebalance`, same run, same data, a fresh cluster
 * for each contender (3 masters holding N keys of 100 bytes spread over all 16384 slots, plus 1 empty master).
 *
 *   node --import tsx bench/rebalance.ts [--keys 200000] [--value-bytes 100] [--on nodes|sandbox] [--tls]
 *
 * --on nodes (default): plain redis-server processes formed by redisctl's forming code; redisctl is the rebalance
 * library (observe, plan, executeMoves) compiled into a small program of its own, with --max-semi-space-size=4.
 * --on sandbox: `redisctl sandbox up`, and for each contender `redisctl cluster create --masters 3
 * --replicas-per-master 0` + `redisctl node add`; redisctl is the built CLI itself, `bin/run.js slots rebalance
 * --use-empty-masters --connect direct`, Kubernetes API calls and start-up included (run `npm run build` first).
 * --tls (with --on sandbox): every contender runs on a plaintext cluster and on one made with `cluster create --tls`
 * (redis-cli with --tls and the cluster's certificates), to report the ratio under TLS and what TLS costs each tool.
 *
 * --baseline DIR (with --on sandbox): one more contender, the CLI built in another checkout (e.g. /work/main), on the
 * same sandbox, for a before/after in one run.
 *
 * Each contender runs as a child process under /usr/bin/time, which reports its peak RSS.
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {Redis} from 'ioredis'

import {parseClusterNodes} from '../src/redis/cluster-nodes.js'
import {RedisConnector} from '../src/redis/connection.js'
import {executeMoves} from '../src/redis/execute-moves.js'
import {planRebalance} from '../src/topology/rebalance.js'
import {fillEverySlot, redisCliCheck, startTestCluster} from '../test/support/form-for-tests.js'

const BUILD_DIR = 'bench/results/build'

/** A cluster of 3 full masters and 1 empty one, filled, for one contender. */
interface Bed {
  /** host:port of a master, for redis-cli. */
  seed: string
  /** How redis-cli connects: --tls and the certificate files on a TLS bed. */
  cliArgs: string[]
  /** How redisctl rebalances this bed. */
  redisctl: string[]
  env?: NodeJS.ProcessEnv
  /** Keys on each master, the one that was empty last. */
  sizes(): Promise<number[]>
  check(): {ok: boolean; output: string}
  stop(): Promise<void>
}

interface Contender {
  name: string
  command(bed: Bed): string[]
}

const contenders: Contender[] = [
  {name: 'redisctl', command: (bed) => bed.redisctl},
  {name: 'redis-cli (default pipeline 10)', command: (bed) => ['redis-cli', ...bed.cliArgs, '--cluster', 'rebalance', bed.seed, '--cluster-use-empty-masters']},
  {name: 'redis-cli --cluster-pipeline 1000', command: (bed) => ['redis-cli', ...bed.cliArgs, '--cluster', 'rebalance', bed.seed, '--cluster-use-empty-masters', '--cluster-pipeline', '1000']},
]

interface Result {
  name: string
  tls: boolean
  seconds: number
  keysPerSecond: number
  keysMoved: number
  peakRssMb: number
  /** The CLI's own figure for the move phase alone (its --json keysPerSecond): without start-up and observing. */
  movingKeysPerSecond?: number
}

async function main(): Promise<void> {
  const {values} = parseArgs({options: {'keys': {type: 'string', default: '200000'}, 'value-bytes': {type: 'string', default: '100'},
    'on': {type: 'string', default: 'nodes'}, 'pod-ip-range': {type: 'string', default: '127.244.0.0/16'}, 'as-redisctl': {type: 'string'},
    'tls': {type: 'boolean', default: false}, 'baseline': {type: 'string'}}})
  if (values['as-redisctl']) return rebalanceAsRedisctl(values['as-redisctl'])
  const keys = Number(values.keys)
  const valueBytes = Number(values['value-bytes'])
  if (values.on !== 'nodes' && values.on !== 'sandbox') throw new Error(`--on takes nodes or sandbox, got ${values.on}`)
  if (values.tls && values.on !== 'sandbox') throw new Error('--tls needs --on sandbox: the TLS clusters are made by cluster create --tls')
  if (values.baseline && values.on !== 'sandbox') throw new Error('--baseline needs --on sandbox: it runs another checkout\'s built CLI')
  const modes = values.tls ? [false, true] : [false]
  const baseline = values.baseline
  if (baseline) contenders.push({name: `redisctl at ${baseline}`, command: (bed) => bed.redisctl.map((arg) => (arg === 'bin/run.js' ? join(baseline, 'bin/run.js') : arg))})
  const sandbox = values.on === 'sandbox' ? startSandbox(values['pod-ip-range']!) : undefined
  if (!sandbox) compile()
  const results: Result[] = []
  try {
    for (const tls of modes) {
      for (const [i, contender] of contenders.entries()) {
        const bed = sandbox ? await sandboxBed(sandbox, `bench-${i}${tls ? '-tls' : ''}`, keys, valueBytes, tls) : await nodesBed(keys, valueBytes)
        try {
          const run = await timed(contender.command(bed), bed.env)
          const sizes = await bed.sizes()
          const total = sizes.reduce((a, b) => a + b, 0)
          const check = bed.check()
          if (total !== keys || !check.ok) throw new Error(`${contender.name} left ${total} of ${keys} keys, check ok: ${check.ok}\n${check.output}`)
          const keysMoved = sizes[3]
          results.push({name: contender.name, tls, seconds: run.seconds, keysMoved, keysPerSecond: Math.round(keysMoved / run.seconds), peakRssMb: run.peakRssMb,
            movingKeysPerSecond: movingRate(run.stdout)})
          console.error(`${contender.name}${tls ? ' (TLS)' : ''}: ${run.seconds.toFixed(2)} s, ${keysMoved} keys moved, peak RSS ${run.peakRssMb.toFixed(0)} MB`)
        } finally {
          await bed.stop()
        }
      }
    }
  } finally {
    sandbox?.down()
  }
  report(keys, valueBytes, values.on, results)
}

async function nodesBed(keys: number, valueBytes: number): Promise<Bed> {
  const cluster = await startTestCluster({masters: 3, emptyMasters: 1})
  try {
    await fillEverySlot(cluster, keys, valueBytes)
  } catch (error) {
    await cluster.stop()
    throw error
  }
  const {host, port} = cluster.masters[0].address
  const seed = `${host}:${port}`
  return {
    seed,
    cliArgs: [],
    // Compiled as the CLI is (tsx alone weighs ~60 MB and 0.3 s); the flag is the one bin/run.js sets.
    redisctl: [process.execPath, '--max-semi-space-size=4', `${BUILD_DIR}/bench/rebalance.js`, '--as-redisctl', seed],
    sizes: () => Promise.all(cluster.clients.map((c) => c.dbsize())),
    check: () => redisCliCheck(cluster),
    stop: () => cluster.stop(),
  }
}

interface Sandbox {
  dir: string
  env: NodeJS.ProcessEnv
  cli(args: string[]): string
  down(): void
}

/** A sandbox of the bench's own (its pods bound to loopback addresses in `podIpRange`). */
function startSandbox(podIpRange: string): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'redisctl-bench-'))
  const env = {...process.env, CI: 'true', KUBECONFIG: join(dir, 'kubeconfig')}
  const cli = (args: string[]): string => {
    const run = spawnSync(process.execPath, ['bin/run.js', ...args], {env, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20})
    if (run.status !== 0) throw new Error(`redisctl ${args.join(' ')} exited with ${run.status}:\n${run.stdout}${run.stderr}`)
    return run.stdout
  }
  cli(['sandbox', 'up', '--dir', dir, '--pod-ip-range', podIpRange])
  return {
    dir, env, cli,
    down() {
      cli(['sandbox', 'down', '--dir', dir, '--purge'])
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** 3 masters and an empty one made by redisctl itself in the sandbox (with --tls: a TLS cluster), filled through plain clients. */
async function sandboxBed(sandbox: Sandbox, name: string, keys: number, valueBytes: number, tls: boolean): Promise<Bed> {
  sandbox.cli(['cluster', 'create', '--name', name, '--masters', '3', '--replicas-per-master', '0', ...(tls ? ['--tls'] : [])])
  sandbox.cli(['node', 'add', '--name', name])
  const status = JSON.parse(sandbox.cli(['status', '--name', name, '--json'])) as {nodes: Array<{pod: string; ip: string; port: number; id: string; slotCount: number}>}
  // The full masters first, then the empty one, as fillEverySlot and the report expect.
  const nodes = [...status.nodes].sort((a, b) => Number(b.slotCount > 0) - Number(a.slotCount > 0))
  const certificates = tls ? certificateFiles(sandbox, name) : undefined
  const clients = nodes.map((n) => new Redis({host: n.ip, port: n.port, protocol: 2, maxRetriesPerRequest: 1,
    ...(certificates ? {tls: {...certificates.pem, servername: `${n.pod}.${name}-headless.default.svc`}} : {})}))
  const masters = nodes.map((n) => ({id: n.id, address: {host: n.ip, port: n.port}}))
  const stop = async (): Promise<void> => {
    clients.forEach((c) => c.disconnect())
    sandbox.cli(['teardown', '--name', name, '--with-pvcs', '--yes'])
  }
  try {
    await fillEverySlot({clients, masters}, keys, valueBytes)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    seed: `${nodes[0].ip}:${nodes[0].port}`,
    cliArgs: certificates?.cliArgs ?? [],
    redisctl: [process.execPath, 'bin/run.js', 'slots', 'rebalance', '--name', name, '--use-empty-masters', '--connect', 'direct', '--yes', '--json'],
    env: sandbox.env,
    sizes: () => Promise.all(clients.map((c) => c.dbsize())),
    check: () => redisCliCheck({masters}, certificates?.cliArgs),
    stop,
  }
}

/** The TLS cluster's Secret, as kubectl reads it: PEM for the bench's clients, files (0600) for redis-cli. */
function certificateFiles(sandbox: Sandbox, name: string): {pem: {ca: string; cert: string; key: string}; cliArgs: string[]} {
  const got = spawnSync('kubectl', ['get', 'secret', `${name}-tls`, '-o', 'json'], {env: sandbox.env, encoding: 'utf8'})
  if (got.status !== 0) throw new Error(`kubectl get secret ${name}-tls: ${got.stderr}`)
  const data = (JSON.parse(got.stdout) as {data: Record<string, string>}).data
  const pem = {ca: '', cert: '', key: ''}
  const files: Record<string, string> = {}
  for (const [field, key] of [['ca', 'ca.crt'], ['cert', 'tls.crt'], ['key', 'tls.key']] as const) {
    pem[field] = Buffer.from(data[key], 'base64').toString('utf8')
    files[field] = join(sandbox.dir, `${name}-${key}`)
    writeFileSync(files[field], pem[field], {mode: 0o600})
  }
  return {pem, cliArgs: ['--tls', '--cacert', files.ca, '--cert', files.cert, '--key', files.key]}
}

function movingRate(stdout: string): number | undefined {
  try {
    return (JSON.parse(stdout) as {keysPerSecond?: number}).keysPerSecond
  } catch {
    return undefined
  }
}

function report(keys: number, valueBytes: number, on: string, results: Result[]): void {
  const tlsRun = results.some((r) => r.tls)
  console.log(`\nRebalance of ${keys} keys (${valueBytes} B values) from 3 masters onto 3 + 1 empty master, on ${on === 'sandbox' ? 'sandbox pods, redisctl as the built CLI' : 'plain redis-server nodes, redisctl as the library'}\n`)
  console.log(`| contender |${tlsRun ? ' TLS |' : ''} seconds | keys moved | keys/s | keys/s moving (own figure) | peak RSS | redisctl is faster by |${tlsRun ? ' TLS costs it |' : ''}`)
  console.log(`|---|${tlsRun ? '---|' : ''}---:|---:|---:|---:|---:|---:|${tlsRun ? '---:|' : ''}`)
  for (const r of results) {
    const ours = results.find((o) => o.tls === r.tls)!
    const plain = results.find((o) => !o.tls && o.name === r.name)!
    const ratio = r === ours ? '' : `${(r.seconds / ours.seconds).toFixed(1)}x`
    const change = Math.round((r.seconds / plain.seconds - 1) * 100)
    const cost = tlsRun ? (r.tls ? ` ${change >= 0 ? '+' : ''}${change}% |` : ' |') : ''
    console.log(`| ${r.name} |${tlsRun ? ` ${r.tls ? 'yes' : 'no'} |` : ''} ${r.seconds.toFixed(2)} | ${r.keysMoved} | ${r.keysPerSecond} | ${r.movingKeysPerSecond ?? ''} | ${r.peakRssMb.toFixed(0)} MB | ${ratio} |${cost}`)
  }
}

/** Compiles this file and what it imports to plain JavaScript in BUILD_DIR. */
function compile(): void {
  mkdirSync('bench/results', {recursive: true})
  writeFileSync('bench/results/tsconfig.json', JSON.stringify({
    extends: '../../tsconfig.json',
    compilerOptions: {outDir: 'build', rootDir: '../..', sourceMap: false},
    include: [],
    files: ['../rebalance.ts'],
  }))
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'bench/results/tsconfig.json'], {encoding: 'utf8'})
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`)
}

/** Runs the command to completion under /usr/bin/time; its output is kept out of the report. */
function timed(command: string[], env?: NodeJS.ProcessEnv): Promise<{seconds: number; peakRssMb: number; stdout: string}> {
  const started = process.hrtime.bigint()
  const child = spawn('/usr/bin/time', ['-f', 'peak-rss-kb %M', ...command], {stdio: ['ignore', 'pipe', 'pipe'], env})
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const rss = /peak-rss-kb (\d+)/.exec(stderr)
      if (code !== 0 || !rss) reject(new Error(`${command.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`))
      else resolve({seconds, peakRssMb: Number(rss[1]) / 1024, stdout})
    })
  })
}

/** The redisctl contender on plain nodes (no Kubernetes to ask for pods): observe from one node, plan, execute. */
async function rebalanceAsRedisctl(seed: string): Promise<void> {
  const [host, port] = seed.split(':')
  const connector = new RedisConnector()
  try {
    const client = await connector.client({host, port: Number(port)})
    const masters = parseClusterNodes(String(await client.call('CLUSTER', 'NODES'))).filter((l) => l.role === 'master')
    const moves = planRebalance(masters.map((m) => ({id: m.id, slots: m.slots})), {useEmptyMasters: true})
    await executeMoves(connector, moves, new Map(masters.map((m) => [m.id, {host: m.host, port: m.port}])))
  } finally {
    await connector.closeAll()
  }
}

await main()

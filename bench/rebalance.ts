/**
 * Rebalance benchmark: redisctl against `redis-cli --cluster rebalance`, same run, same data, a fresh cluster
 * for each contender (3 masters holding N keys of 100 bytes spread over all 16384 slots, plus 1 empty master).
 *
 *   node --import tsx bench/rebalance.ts [--keys 200000] [--value-bytes 100]
 *
 * Each contender runs as a child process under /usr/bin/time, which reports its peak RSS.
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {parseArgs} from 'node:util'

import {parseClusterNodes} from '../src/redis/cluster-nodes.js'
import {RedisConnector} from '../src/redis/connection.js'
import {executeMoves} from '../src/redis/execute-moves.js'
import {planRebalance} from '../src/topology/rebalance.js'
import {fillEverySlot, redisCliCheck, startTestCluster} from '../test/support/form-for-tests.js'

/**
 * How redisctl's rebalance is started; once `redisctl slots rebalance` exists, this is the one line to switch (to
 * `[process.execPath, '--max-semi-space-size=4', 'bin/run.js', 'slots', 'rebalance', seed, '--use-empty-masters', '--yes']`,
 * say). Until then this file's own --as-redisctl mode, compiled as the CLI will be (tsx alone weighs ~60 MB and
 * 0.3 s). The small young generation keeps the peak RSS near the live heap: with Node's default the heap grows
 * to ~160 MB of mostly garbage (see bench/README.md); bin/run.js should carry the same flag.
 */
const redisctlRebalance = (seed: string): string[] => [process.execPath, '--max-semi-space-size=4', `${BUILD_DIR}/bench/rebalance.js`, '--as-redisctl', seed]
const BUILD_DIR = 'bench/results/build'

interface Contender {
  name: string
  command(seed: string): string[]
}

const contenders: Contender[] = [
  {name: 'redisctl', command: redisctlRebalance},
  {name: 'redis-cli (default pipeline 10)', command: (seed) => ['redis-cli', '--cluster', 'rebalance', seed, '--cluster-use-empty-masters']},
  {name: 'redis-cli --cluster-pipeline 1000', command: (seed) => ['redis-cli', '--cluster', 'rebalance', seed, '--cluster-use-empty-masters', '--cluster-pipeline', '1000']},
]

interface Result {
  name: string
  seconds: number
  keysPerSecond: number
  keysMoved: number
  peakRssMb: number
}

async function main(): Promise<void> {
  const {values} = parseArgs({options: {'keys': {type: 'string', default: '200000'}, 'value-bytes': {type: 'string', default: '100'},
    'as-redisctl': {type: 'string'}}})
  if (values['as-redisctl']) return rebalanceAsRedisctl(values['as-redisctl'])
  const keys = Number(values.keys)
  const valueBytes = Number(values['value-bytes'])
  compile()
  const results: Result[] = []
  for (const contender of contenders) {
    const cluster = await startTestCluster({masters: 3, emptyMasters: 1})
    try {
      await fillEverySlot(cluster, keys, valueBytes)
      const {host, port} = cluster.masters[0].address
      const run = await timed(contender.command(`${host}:${port}`))
      const sizes = await Promise.all(cluster.clients.map((c) => c.dbsize()))
      const total = sizes.reduce((a, b) => a + b, 0)
      const check = redisCliCheck(cluster)
      if (total !== keys || !check.ok) throw new Error(`${contender.name} left ${total} of ${keys} keys, check ok: ${check.ok}\n${check.output}`)
      const keysMoved = sizes[3]
      results.push({name: contender.name, seconds: run.seconds, keysMoved, keysPerSecond: Math.round(keysMoved / run.seconds), peakRssMb: run.peakRssMb})
      console.error(`${contender.name}: ${run.seconds.toFixed(2)} s, ${keysMoved} keys moved, peak RSS ${run.peakRssMb.toFixed(0)} MB`)
    } finally {
      await cluster.stop()
    }
  }
  report(keys, valueBytes, results)
}

function report(keys: number, valueBytes: number, results: Result[]): void {
  const ours = results[0]
  console.log(`\nRebalance of ${keys} keys (${valueBytes} B values) from 3 masters onto 3 + 1 empty master\n`)
  console.log('| contender | seconds | keys moved | keys/s | peak RSS | redisctl is faster by |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const r of results) {
    const ratio = r === ours ? '' : `${(r.seconds / ours.seconds).toFixed(1)}x`
    console.log(`| ${r.name} | ${r.seconds.toFixed(2)} | ${r.keysMoved} | ${r.keysPerSecond} | ${r.peakRssMb.toFixed(0)} MB | ${ratio} |`)
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

/** Runs the command to completion under /usr/bin/time; its own output is kept out of the report. */
function timed(command: string[]): Promise<{seconds: number; peakRssMb: number}> {
  const started = process.hrtime.bigint()
  const child = spawn('/usr/bin/time', ['-f', 'peak-rss-kb %M', ...command], {stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const rss = /peak-rss-kb (\d+)/.exec(stderr)
      if (code !== 0 || !rss) reject(new Error(`${command.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`))
      else resolve({seconds, peakRssMb: Number(rss[1]) / 1024})
    })
  })
}

/** The redisctl contender until `redisctl slots rebalance` exists: observe from one node, plan, execute. */
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

/**
 * Scaling in from 4 masters to 3 (4x1 to 3x1) on the sandbox, redisctl against the runbook's redis-cli sequence:
 *   node --import tsx bench/scale-in.ts [--keys 200000] [--rounds 2]
 * Each round and contender starts from a fresh 4x1 cluster holding the same keys (100-byte values); the contenders
 * alternate. Timed from the first command to the StatefulSet at 6 pods:
 * - redisctl: `redisctl scale --masters 3`.
 * - runbook: find the node ids, `redis-cli --cluster del-node` the replicas on the two highest pods, `reshard` every
 *   slot of the master on pod 3 to the master on pod 0, `del-node` it, wait until `--cluster check` is clean
 *   (rebalance refuses before), `rebalance`, then `kubectl scale
 *   statefulset --replicas=6` and wait for the pods to go.
 * Both end with every key present and `redis-cli --cluster check` passing (checked, untimed).
 * Needs `npm run build` first (it runs bin/run.js) and kubectl.
 */
import {execFile, execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {parseArgs} from 'node:util'

import {Cluster} from 'ioredis'

const run = promisify(execFile)
const {values} = parseArgs({options: {keys: {type: 'string', default: '200000'}, rounds: {type: 'string', default: '2'}}})
const KEYS = Number(values.keys)
const ROUNDS = Number(values.rounds)
const SELECTOR = 'app.kubernetes.io/instance=redis-cluster'
const value = (i: number): string => `${i}:`.padEnd(100, 'x')

const dir = mkdtempSync(join(tmpdir(), 'redisctl-bench-scale-in-'))
const up = JSON.parse(execFileSync(process.execPath, ['bin/run.js', 'sandbox', 'up', '--dir', dir, '--pod-ip-range', '127.252.0.0/16', '--json'], {encoding: 'utf8'})) as {kubeconfig: string}
const env = {...process.env, KUBECONFIG: up.kubeconfig}
const cli = async (args: string[]): Promise<string> => (await run(process.execPath, ['bin/run.js', ...args], {env, maxBuffer: 64 << 20})).stdout
const kubectl = async (args: string[]): Promise<string> => (await run('kubectl', args, {env, maxBuffer: 64 << 20})).stdout
const redisCli = async (args: string[]): Promise<string> => (await run('redis-cli', args, {maxBuffer: 64 << 20})).stdout

async function podIps(): Promise<Map<string, string>> {
  const list = JSON.parse(await kubectl(['get', 'pods', '-l', SELECTOR, '-o', 'json'])) as {items: Array<{metadata: {name: string}; status: {podIP?: string}}>}
  return new Map(list.items.map((p) => [p.metadata.name, p.status.podIP ?? '']))
}

async function freshCluster(): Promise<void> {
  await cli(['teardown', '--with-pvcs', '--yes'])
  await cli(['cluster', 'create', '--masters', '4'])
  const ips = await podIps()
  const cluster = new Cluster([{host: ips.get('redis-cluster-0')!, port: 6379}])
  for (let start = 0; start < KEYS; start += 5000) {
    await Promise.all(Array.from({length: Math.min(5000, KEYS - start)}, (_, j) => cluster.set(`key:${start + j}`, value(start + j))))
  }
  cluster.disconnect()
}

async function verify(): Promise<void> {
  const ips = await podIps()
  const cluster = new Cluster([{host: ips.get('redis-cluster-0')!, port: 6379}])
  let missing = 0
  for (let start = 0; start < KEYS; start += 5000) {
    const batch = Array.from({length: Math.min(5000, KEYS - start)}, (_, j) => start + j)
    const got = await Promise.all(batch.map((i) => cluster.get(`key:${i}`)))
    missing += got.filter((v, j) => v !== value(batch[j])).length
  }
  cluster.disconnect()
  const check = await redisCli(['--cluster', 'check', `${ips.get('redis-cluster-0')}:6379`])
  if (missing > 0 || !check.includes('[OK] All 16384 slots covered')) throw new Error(`after the scale: ${missing} keys missing; check:\n${check}`)
}

async function nodeIds(ip: string): Promise<Map<string, {id: string; master: boolean}>> {
  const lines = (await redisCli(['-h', ip, 'CLUSTER', 'NODES'])).trim().split('\n')
  return new Map(lines.map((l) => l.split(' ')).map((f) => [f[1].split(':')[0], {id: f[0], master: f[2].includes('master')}]))
}

async function untilChecked(entry: string): Promise<void> {
  for (;;) {
    const check = await run('redis-cli', ['--cluster', 'check', entry]).then((r) => r.stdout, (error: {stdout?: string}) => error.stdout ?? '')
    if (!check.includes('[ERR]') && !check.includes('[WARNING]')) return
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function redisctlScaleIn(): Promise<void> {
  await cli(['scale', '--masters', '3', '--yes'])
}

async function runbookScaleIn(): Promise<void> {
  const ips = await podIps()
  const entry = `${ips.get('redis-cluster-0')}:6379`
  const ids = await nodeIds(ips.get('redis-cluster-0')!)
  const idOf = (pod: string): string => ids.get(ips.get(pod)!)!.id
  for (const pod of ['redis-cluster-6', 'redis-cluster-7']) await redisCli(['--cluster', 'del-node', entry, idOf(pod)])
  await redisCli(['--cluster', 'reshard', entry, '--cluster-from', idOf('redis-cluster-3'), '--cluster-to', idOf('redis-cluster-0'), '--cluster-slots', '4096', '--cluster-yes'])
  await redisCli(['--cluster', 'del-node', entry, idOf('redis-cluster-3')])
  // rebalance refuses while the nodes disagree ("Please fix your cluster problems"); whoever runs the runbook waits.
  await untilChecked(entry)
  await redisCli(['--cluster', 'rebalance', entry])
  await kubectl(['scale', 'statefulset', 'redis-cluster', '--replicas=6'])
  await kubectl(['wait', '--for=delete', 'pod/redis-cluster-6', 'pod/redis-cluster-7', '--timeout=120s']).catch(() => '')
}

const contenders = [['redisctl scale --masters 3', redisctlScaleIn], ['redis-cli runbook', runbookScaleIn]] as const
const times = new Map<string, number[]>(contenders.map(([name]) => [name, []]))
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse()
    for (const [name, scaleIn] of order) {
      await freshCluster()
      const started = performance.now()
      await scaleIn()
      times.get(name)!.push(performance.now() - started)
      await verify()
      console.error(`round ${round + 1}: ${name} ${(times.get(name)!.at(-1)! / 1000).toFixed(1)} s`)
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const ours = median(times.get(contenders[0][0])!)
  const theirs = median(times.get(contenders[1][0])!)
  console.log(`\n4x1 -> 3x1, ${KEYS} keys of 100 bytes, ${ROUNDS} rounds, medians`)
  console.log(`| contender | seconds |\n|---|---:|`)
  console.log(`| ${contenders[0][0]} | ${(ours / 1000).toFixed(1)} |\n| ${contenders[1][0]} | ${(theirs / 1000).toFixed(1)} |`)
  console.log(`ratio (runbook / redisctl): ${(theirs / ours).toFixed(1)}x`)
} finally {
  execFileSync(process.execPath, ['bin/run.js', 'sandbox', 'down', '--dir', dir, '--purge'], {stdio: 'ignore'})
  rmSync(dir, {recursive: true, force: true})
}

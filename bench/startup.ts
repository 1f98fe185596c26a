/**
 * What a command costs before and besides its work: wall time, CPU and peak RSS of `redisctl --version` and
 * `redisctl status` on 12 sandbox pods, against `kubectl get pods` and `redis-cli --cluster check` on the same pods
 * in the same run, and what status asks of Kubernetes and of each Redis node.
 *   node --import tsx bench/startup.ts [--runs 9] [--baseline DIR] [--sea FILE]
 * --baseline runs DIR/bin/run.js too (another checkout, built), --sea a standalone executable (default
 * dist/sea/redisctl when it exists). Runs are interleaved, the first of each contender is left out (it fills the
 * compile cache). Needs `npm run build` first, /usr/bin/time, kubectl and redis-cli.
 */
import {execFile, execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs, promisify} from 'node:util'

import {logKubeRequests} from '../test/support/kube-requests.js'

const {values} = parseArgs({options: {
  runs: {type: 'string', default: '9'}, baseline: {type: 'string'}, sea: {type: 'string'},
  'pod-ip-range': {type: 'string', default: '127.197.0.0/16'},
}})
const runs = Number(values.runs)
const seaFile = values.sea ?? (existsSync('dist/sea/redisctl') ? resolve('dist/sea/redisctl') : undefined)
const CLI = resolve('bin/run.js')

interface Contender {
  label: string
  argv: string[]
  env?: Record<string, string>
}

interface Sample {
  wallMs: number
  cpuMs: number
  peakRssMb: number
}

const dir = mkdtempSync(join(tmpdir(), 'redisctl-bench-startup-'))
const cli = (args: string[]): string => execFileSync(process.execPath, [CLI, ...args], {encoding: 'utf8', env: {...process.env, KUBECONFIG: join(dir, 'kubeconfig')}})
try {
  cli(['sandbox', 'up', '--dir', dir, '--pod-ip-range', values['pod-ip-range']!])
  cli(['cluster', 'create', '--masters', '6', '--replicas-per-master', '1', '--yes'])
  const kubeconfig = join(dir, 'kubeconfig')
  const pod0 = (JSON.parse(cli(['status', '--json'])) as {nodes: Array<{ip: string; port: number}>}).nodes[0]

  const contenders: Contender[] = [
    {label: '`node -e 0` (Node alone)', argv: [process.execPath, '-e', '0']},
    {label: '`redisctl --version`', argv: [process.execPath, CLI, '--version']},
    {label: '`redisctl status`', argv: [process.execPath, CLI, 'status']},
    {label: '`redisctl status`, compile cache off', argv: [process.execPath, CLI, 'status'], env: {NODE_DISABLE_COMPILE_CACHE: '1'}},
    ...(values.baseline ? [
      {label: 'baseline `redisctl --version`', argv: [process.execPath, join(values.baseline, 'bin/run.js'), '--version']},
      {label: 'baseline `redisctl status`', argv: [process.execPath, join(values.baseline, 'bin/run.js'), 'status']},
    ] : []),
    ...(seaFile ? [
      {label: 'executable `redisctl --version`', argv: [seaFile, '--version']},
      {label: 'executable `redisctl status`', argv: [seaFile, 'status']},
    ] : []),
    {label: '`kubectl get pods`', argv: ['kubectl', 'get', 'pods']},
    {label: '`redis-cli --cluster check`', argv: ['redis-cli', '--cluster', 'check', `${pod0.ip}:${pod0.port}`]},
  ]
  const loadBefore = loadavg()[0]
  const samples = new Map<Contender, Sample[]>(contenders.map((c) => [c, []]))
  for (let round = 0; round <= runs; round++) {
    for (const contender of contenders) {
      const sample = measure(contender, kubeconfig)
      if (round > 0) samples.get(contender)!.push(sample)
    }
  }
  const loadAfter = loadavg()[0]

  console.log(`\n12 pods (6 masters, 6 replicas), ${runs} runs each, interleaved; load average ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)} on ${os()}\n`)
  console.log('| command | wall median | wall min | CPU median | peak RSS median |')
  console.log('|---|---:|---:|---:|---:|')
  for (const [contender, list] of samples) {
    const wall = list.map((s) => s.wallMs)
    console.log(`| ${contender.label} | ${seconds(median(wall))} | ${seconds(Math.min(...wall))} | ${seconds(median(list.map((s) => s.cpuMs)))} | ${Math.round(median(list.map((s) => s.peakRssMb)))} MB |`)
  }

  console.log('\nWhat one `redisctl status` asks:')
  for (const line of await kubernetesRequests(kubeconfig)) console.log(`- Kubernetes: ${line}`)
  console.log(`- each Redis node: ${redisCommands(pod0, kubeconfig)}`)
} finally {
  spawnSync(process.execPath, [CLI, 'sandbox', 'down', '--dir', dir, '--purge'], {stdio: 'ignore'})
  rmSync(dir, {recursive: true, force: true})
}

/** One run under /usr/bin/time: wall time from here, CPU and peak RSS (of the process and its children) from time. */
function measure(contender: Contender, kubeconfig: string): Sample {
  const out = join(dir, 'time.out')
  const started = performance.now()
  const run = spawnSync('/usr/bin/time', ['-o', out, '-f', '%U %S %M', ...contender.argv], {
    env: {...process.env, KUBECONFIG: kubeconfig, ...contender.env}, encoding: 'utf8', maxBuffer: 16 << 20,
  })
  const wallMs = performance.now() - started
  if (run.status !== 0) throw new Error(`${contender.argv.join(' ')} failed (${run.status}): ${run.stderr}`)
  const [user, system, rssKb] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number)
  return {wallMs, cpuMs: (user + system) * 1000, peakRssMb: rssKb / 1024}
}

/** Runs status once through a proxy in front of the API server that notes each request. */
async function kubernetesRequests(kubeconfig: string): Promise<string[]> {
  const requests = await logKubeRequests(kubeconfig)
  try {
    // Asynchronously: the proxy answers from this process's event loop.
    await promisify(execFile)(process.execPath, [CLI, 'status'], {env: {...process.env, KUBECONFIG: requests.kubeconfig}})
  } finally {
    await requests.close()
  }
  return requests.seen
}

/** The commands status sends one node, from that node's command statistics. */
function redisCommands(node: {ip: string; port: number}, kubeconfig: string): string {
  const redis = (...args: string[]): string => execFileSync('redis-cli', ['-h', node.ip, '-p', String(node.port), ...args], {encoding: 'utf8'})
  redis('CONFIG', 'RESETSTAT')
  execFileSync(process.execPath, [CLI, 'status'], {env: {...process.env, KUBECONFIG: kubeconfig}})
  // Redis counts a command once it has run: neither RESETSTAT's own count nor this INFO's is left in the numbers.
  return redis('INFO', 'commandstats').split('\n').flatMap((line) => {
    const match = /^cmdstat_(\S+):calls=(\d+)/.exec(line)
    return match && match[1] !== 'config|resetstat' ? [`${match[1]} x${match[2]}`] : []
  }).join(', ')
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}

function os(): string {
  return `${spawnSync('nproc', {encoding: 'utf8'}).stdout.trim()} cores, Node ${process.version}`
}

import {spawn} from 'node:child_process'
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {json, runCli, type CliResult} from '../support/cli.js'

/**
 * Support for the end-to-end specifications: a sandbox of the test file's own, kubectl and redis-cli as a user
 * runs them, and polling waits.
 */

export interface E2eSandbox {
  dir: string
  kubeconfig: string
  server: string
  pid: number
  /** The output of the `sandbox up` that started it. */
  up: CliResult
  cli(args: string[], options?: {env?: Record<string, string | undefined>; timeoutMs?: number}): Promise<CliResult>
  kubectl(args: string[], input?: string): Promise<CliResult>
  down(): Promise<CliResult>
}

/**
 * A /16 of pod IPs for each e2e file, 127.240-254.x, and 127.46-60.x and 127.63 once those ran out (never the
 * sandboxes' default 127.64-199, nor the kubelet and port-forward tests' 127.61-62): test files run in parallel, each
 * with its own sandbox and its kubelet on that range's .255.x node addresses,
 * beside the redis-server nodes of test/support/redis-nodes.ts (127.200-239.x) and a developer's own sandbox, so
 * each file names its own range rather than trusting the per-folder default not to collide.
 */
export const podIpRange = (octet: number): string => `127.${octet}.0.0/16`

export async function startE2eSandbox(options: {podIpOctet: number; json?: boolean; env?: Record<string, string>}): Promise<E2eSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'redisctl-e2e-'))
  const up = await runCli(['sandbox', 'up', '--dir', dir, '--pod-ip-range', podIpRange(options.podIpOctet), ...(options.json === false ? [] : ['--json'])], {timeoutMs: 40_000, env: options.env})
  if (up.code !== 0) throw new Error(`sandbox up failed (${up.code}): ${up.stdout}${up.stderr}`)
  // Text output names no pid: then the daemon's own state file gives the same facts.
  const {kubeconfig, server, pid} = options.json === false
    ? JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as {server: string; pid: number; kubeconfig: string}
    : json<{kubeconfig: string; server: string; pid: number}>(up)
  return {
    dir, kubeconfig, server, pid, up,
    cli: (args, opts = {}) => runCli(args, {...opts, env: {KUBECONFIG: kubeconfig, ...opts.env}}),
    kubectl: (args, input) => run('kubectl', ['--kubeconfig', kubeconfig, ...args], {input}),
    async down() {
      const down = await runCli(['sandbox', 'down', '--dir', dir, '--purge', '--json'])
      // Keep the folder (state.json names the daemon) when down failed, so that it can be stopped by hand.
      if (down.code !== 0) throw new Error(`sandbox down --dir ${dir} failed (${down.code}): ${down.stdout}${down.stderr}`)
      await rm(dir, {recursive: true, force: true})
      return down
    },
  }
}

/** Runs a program to its end; input goes to its stdin. Killed after timeoutMs. */
export function run(command: string, args: string[], options: {input?: string; env?: Record<string, string>; timeoutMs?: number} = {}): Promise<CliResult> {
  const child = spawn(command, args, {env: {...process.env, ...options.env}, stdio: ['pipe', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d))
  child.stderr.on('data', (d: Buffer) => (stderr += d))
  // A program that exits before reading its input (redis-cli answering at once) closes the pipe: that EPIPE is
  // not the test's concern, and unhandled it would fail the whole run.
  child.stdin.on('error', () => {})
  child.stdin.end(options.input ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
  return new Promise((resolve) => child.once('close', (code) => {
    clearTimeout(timer)
    resolve({code, stdout, stderr})
  }))
}

export const redisCli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => run('redis-cli', args, {env})

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export interface PodInfo {
  name: string
  ip?: string
  node?: string
  phase?: string
  ready: boolean
  uid: string
}

interface KubePod {
  metadata: {name: string; uid: string}
  spec: {nodeName?: string}
  status?: {podIP?: string; phase?: string; conditions?: Array<{type: string; status: string}>}
}

/** The pods matching a label selector, as kubectl reports them. */
export async function pods(sandbox: E2eSandbox, selector: string): Promise<PodInfo[]> {
  const got = await sandbox.kubectl(['get', 'pods', '-l', selector, '-o', 'json'])
  if (got.code !== 0) throw new Error(`kubectl get pods failed: ${got.stderr}`)
  return (JSON.parse(got.stdout) as {items: KubePod[]}).items.map((p) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    ip: p.status?.podIP,
    node: p.spec.nodeName,
    phase: p.status?.phase,
    ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
  })).sort((a, b) => a.name.localeCompare(b.name, 'en', {numeric: true}))
}

export async function waitForReadyPods(sandbox: E2eSandbox, selector: string, count: number, timeoutMs = 30_000): Promise<PodInfo[]> {
  return waitFor(`${count} Ready pods matching ${selector}`, async () => {
    const list = await pods(sandbox, selector)
    return list.length === count && list.every((p) => p.ready && p.phase === 'Running' && p.ip) ? list : undefined
  }, timeoutMs)
}

/** Names of the objects of a kind (comma-separated kinds allowed) in the default namespace, optionally by selector. */
export async function names(sandbox: E2eSandbox, kinds: string, selector?: string): Promise<string[]> {
  const got = await sandbox.kubectl(['get', kinds, ...(selector ? ['-l', selector] : []), '-o', 'name'])
  if (got.code !== 0) throw new Error(`kubectl get ${kinds} failed: ${got.stderr}`)
  return got.stdout.split('\n').filter(Boolean).sort()
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

/** Every running redis-server: pid, its /proc cmdline (NUL turned into spaces) and environment. */
export async function redisServerProcesses(): Promise<Array<{pid: number; cmdline: string; environ: string}>> {
  const found = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ')
      if (!cmdline.includes('redis-server')) continue
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '')
      found.push({pid: Number(entry), cmdline, environ: environ.replaceAll('\0', '\n')})
    } catch {
      // The process ended meanwhile.
    }
  }
  return found
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** cluster_current_epoch and friends from CLUSTER INFO on one node. */
export async function clusterInfo(host: string, port: number, env: Record<string, string> = {}): Promise<Record<string, string>> {
  const got = await redisCli(['-h', host, '-p', String(port), 'CLUSTER', 'INFO'], env)
  return Object.fromEntries(got.stdout.split(/\r?\n/).filter((l) => l.includes(':')).map((l) => l.split(':', 2) as [string, string]))
}

/** One key of a Secret, decoded (kubectl get secret -o jsonpath). */
export async function secretValue(sandbox: E2eSandbox, name: string, key: string): Promise<string> {
  const got = await sandbox.kubectl(['get', 'secret', name, '-o', `jsonpath={.data.${key.replaceAll('.', '\\.')}}`])
  if (got.code !== 0) throw new Error(`kubectl get secret ${name} failed: ${got.stderr}`)
  return Buffer.from(got.stdout, 'base64').toString('utf8')
}

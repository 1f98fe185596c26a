import {spawn, type ChildProcess} from 'node:child_process'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Redis} from 'ioredis'

/**
 * Real redis-server processes for tests that need Redis without Kubernetes, each on its own loopback
 * address (127.a.b.c) so that they look like pods on a network. Stopped by PID in stop().
 */
export interface RedisNode {
  host: string
  port: number
  dir: string
  process: ChildProcess
}

export interface RedisNodes {
  nodes: RedisNode[]
  stop(): Promise<void>
}

let subnet = 0

function nextSubnet(): string {
  // A different /24 per call and per worker so that parallel test files never share an address; 127.200-239 only,
  // as the e2e sandboxes use 127.240-254.
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 0) % 40
  subnet += 1
  return `127.${200 + worker}.${(process.pid + subnet) % 250}`
}

/** `subnet` ("127.a.b") for benches that run beside tests, on a range the tests do not use. */
export async function startRedisNodes(count: number, options: {cluster?: boolean; password?: string; extraConfig?: string[]; subnet?: string} = {}): Promise<RedisNodes> {
  const base = options.subnet ?? nextSubnet()
  const root = await mkdtemp(join(tmpdir(), 'redisctl-test-'))
  const nodes: RedisNode[] = []
  for (let i = 0; i < count; i++) {
    const host = `${base}.${i + 1}`
    const dir = join(root, `node-${i}`)
    await mkdir(dir, {recursive: true})
    const conf = [
      `bind ${host}`,
      `bind-source-addr ${host}`,
      'port 6379',
      `dir ${dir}`,
      'save ""',
      'appendonly no',
      'protected-mode no',
      ...(options.cluster === false ? [] : ['cluster-enabled yes', 'cluster-config-file nodes.conf', 'cluster-node-timeout 5000']),
      ...(options.password ? [`requirepass ${options.password}`, `masterauth ${options.password}`] : []),
      ...(options.extraConfig ?? []),
    ]
    await writeFile(join(dir, 'redis.conf'), conf.join('\n') + '\n')
    const child = spawn('redis-server', [join(dir, 'redis.conf')], {stdio: 'ignore'})
    nodes.push({host, port: 6379, dir, process: child})
  }
  await Promise.all(nodes.map((n) => waitForPing(n, options.password)))
  return {
    nodes,
    async stop() {
      await Promise.all(nodes.map((n) => stopProcess(n.process)))
      await rm(root, {recursive: true, force: true})
    },
  }
}

/**
 * Stops every node (SIGTERM: Redis flushes its AOF and nodes.conf) and starts each again on a new loopback address
 * with the same folder, so it keeps its node id, its view of the cluster and its data: what a StatefulSet's pods
 * look like after all of them were deleted at once and came back with new IPs.
 */
export async function restartAtNewAddresses(servers: RedisNodes, password?: string): Promise<void> {
  await Promise.all(servers.nodes.map((n) => stopProcess(n.process)))
  const base = nextSubnet()
  await Promise.all(servers.nodes.map(async (node, i) => {
    const host = `${base}.${i + 1}`
    const file = join(node.dir, 'redis.conf')
    const conf = (await readFile(file, 'utf8')).replace(/^(bind|bind-source-addr) .*$/gm, `$1 ${host}`)
    await writeFile(file, conf)
    node.host = host
    node.process = spawn('redis-server', [file], {stdio: 'ignore'})
  }))
  await Promise.all(servers.nodes.map((n) => waitForPing(n, password)))
}

/**
 * What a pod that lost its volume looks like when the StatefulSet brings it back: the node is killed, its folder
 * emptied (nodes.conf and data gone), and a fresh redis-server with the same config starts on a new address, as an
 * empty node with a new id that knows no cluster.
 */
export async function replaceWithEmptyNode(servers: RedisNodes, index: number): Promise<void> {
  const node = servers.nodes[index]
  node.process.kill('SIGKILL')
  await new Promise<void>((resolve) => (node.process.exitCode !== null || node.process.signalCode !== null ? resolve() : node.process.once('exit', () => resolve())))
  const file = join(node.dir, 'redis.conf')
  const conf = await readFile(file, 'utf8')
  await rm(node.dir, {recursive: true, force: true})
  await mkdir(node.dir, {recursive: true})
  const host = `${nextSubnet()}.${index + 1}`
  await writeFile(file, conf.replace(/^(bind|bind-source-addr) .*$/gm, `$1 ${host}`))
  node.host = host
  node.process = spawn('redis-server', [file], {stdio: 'ignore'})
  await waitForPing(node)
}

async function waitForPing(node: RedisNode, password?: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const client = new Redis({host: node.host, port: node.port, password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0})
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      client.disconnect()
      return
    } catch {
      client.disconnect()
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  throw new Error(`redis-server on ${node.host}:${node.port} did not start`)
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

import {CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod} from '@kubernetes/client-node'
import {Redis} from 'ioredis'
import {readFile} from 'node:fs/promises'

/**
 * Shared pieces of the kubelet tests: a client for the API server, pod builders, and waits that poll fast
 * with a deadline.
 */
export const NAMESPACE = 'kubelet-test'

export function kubeConfigFor(server: string, token: string): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{name: 'test', server, skipTLSVerify: true}],
    users: [{name: 'test', token}],
    contexts: [{name: 'test', cluster: 'test', user: 'test', namespace: NAMESPACE}],
    currentContext: 'test',
  })
  return kc
}

export async function prepareCluster(core: CoreV1Api, nodeNames: string[]): Promise<void> {
  await ignoreConflict(core.createNamespace({body: {metadata: {name: NAMESPACE}}}))
  for (const name of nodeNames) await ignoreConflict(core.createNode({body: {metadata: {name, labels: {'kubernetes.io/hostname': name}}}}))
}

async function ignoreConflict(request: Promise<unknown>): Promise<void> {
  try {
    await request
  } catch (error) {
    if ((error as {code?: number}).code !== 409) throw error
  }
}

/** A redis pod bound to a node at creation, as the scheduler would leave it. */
export function redisPod(name: string, nodeName: string, spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return {
    metadata: {name, namespace: NAMESPACE, labels: {app: 'kubelet-test'}},
    spec: {nodeName, terminationGracePeriodSeconds: 5, containers: [{name: 'redis', image: 'redis:7.0', args: ['--save', '', '--appendonly', 'no']}], ...spec},
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`)
}

export const isReady = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true

export async function readyPod(core: CoreV1Api, name: string, timeoutMs?: number): Promise<V1Pod> {
  return waitFor(`pod ${name} Running and Ready`, async () => {
    const pod = await core.readNamespacedPod({name, namespace: NAMESPACE})
    return isReady(pod) ? pod : undefined
  }, timeoutMs)
}

export async function podGone(core: CoreV1Api, name: string, uid: string): Promise<void> {
  await waitFor(`pod ${name} (${uid}) removed`, async () => {
    try {
      const pod = await core.readNamespacedPod({name, namespace: NAMESPACE})
      return pod.metadata?.uid !== uid
    } catch (error) {
      return (error as {code?: number}).code === 404
    }
  })
}

/** The server's pid, which the kubelet reports as the container ID (sandbox://PID). */
export const pidOf = (pod: V1Pod): number => Number(pod.status?.containerStatuses?.[0]?.containerID?.replace('sandbox://', ''))

export async function isRedisProcess(pid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
  return cmdline.includes('redis-server')
}

export async function processGone(pid: number): Promise<void> {
  await waitFor(`process ${pid} to end`, async () => !(await isRedisProcess(pid)))
}

/** Runs one command on a redis-server at the pod IP, with a fresh connection that is always closed. */
export async function redisCommand(host: string, port: number, ...args: string[]): Promise<unknown> {
  const client = new Redis({host, port, protocol: 2, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000})
  client.on('error', () => {})
  try {
    await client.connect()
    return await client.call(args[0], ...args.slice(1))
  } finally {
    client.disconnect()
  }
}

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

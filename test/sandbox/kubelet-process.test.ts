import {CoreV1Api} from '@kubernetes/client-node'
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startApiServer} from '../../src/sandbox/apiserver/server.js'
import {sandboxKubeconfig} from '../../src/sandbox/kubeconfig.js'
import {findServerBinary} from '../../src/sandbox/kubelet/container-command.js'
import {stopLeftoverServers} from '../../src/sandbox/kubelet/index.js'
import {sandboxPki} from '../../src/sandbox/pki.js'
import {isRedisProcess, kubeConfigFor, NAMESPACE, pidOf, podGone, prepareCluster, readyPod, redisCommand, redisPod, waitFor} from './kubelet-harness.js'
import {clientNodeForward, refusal, setAndGet} from './port-forward-clients.js'

const NODE = 'kubelet-node-p'
/** The address the last test gives the node with --node-ip, in place of the default from the IP range. */
const NODE_IP = '127.97.254.1'

let api: Awaited<ReturnType<typeof startApiServer>>
let core: CoreV1Api
let root: string
let kubeconfig: string
/** Certificate files for the kubelet's serving flags; the API server trusts their CA and shows a client certificate. */
const certs = {ca: '', cert: '', key: ''}
const started: ChildProcess[] = []

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubelet-process-test-'))
  const pki = await sandboxPki([NODE], [NODE_IP])
  Object.assign(certs, {ca: join(root, 'ca.crt'), cert: join(root, 'kubelet.crt'), key: join(root, 'kubelet.key')})
  await Promise.all([writeFile(certs.ca, pki.ca), writeFile(certs.cert, pki.kubeletServing.cert), writeFile(certs.key, pki.kubeletServing.key)])
  api = await startApiServer({host: '127.0.0.1', port: 0, tls: pki, kubeletClient: {ca: pki.ca, ...pki.apiserverKubeletClient}})
  core = kubeConfigFor(api.url, api.adminToken).makeApiClient(CoreV1Api)
  await prepareCluster(core, [NODE])
  kubeconfig = join(root, 'kubeconfig')
  await writeFile(kubeconfig, sandboxKubeconfig({server: api.url, ca: api.ca}, {token: api.adminToken}))
})

afterAll(async () => {
  for (const child of started) await stopChild(child, 'SIGKILL')
  await api?.close()
  await rm(root, {recursive: true, force: true})
})

/** The kubelet as its own process, the way the sandbox daemon or a user would start it. */
function runKubelet(flags: string[] = []): ChildProcess {
  const args = ['--import', 'tsx', 'src/sandbox/kubelet/main.ts', '--kubeconfig', kubeconfig, '--nodes', NODE, '--state-dir', join(root, 'state'), '--ip-range', '127.97.0.0/16', ...flags]
  const child = spawn(process.execPath, args, {stdio: ['ignore', 'ignore', 'pipe']})
  child.stderr?.resume()
  started.push(child)
  return child
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const code = await exited
  clearTimeout(timer)
  return code
}

describe('the kubelet as a separate process', () => {
  it('runs pods like the in-process kubelet and stops their servers on SIGTERM', async () => {
    const kubelet = runKubelet()
    await core.createNamespacedPod({namespace: NAMESPACE, body: redisPod('proc', NODE)})
    const pod = await readyPod(core, 'proc', 30_000)
    expect(pod.status!.podIP).toMatch(/^127\.97\./)
    expect(await redisCommand(pod.status!.podIP!, 6379, 'PING')).toBe('PONG')

    expect(await stopChild(kubelet, 'SIGTERM')).toBe(0)
    expect(await isRedisProcess(pidOf(pod))).toBe(false)
  })

  it('stops the servers a killed kubelet left behind, and runs the pod again on the same IP', async () => {
    const first = runKubelet()
    const before = await waitFor('proc running under the new kubelet', async () => {
      const pod = await readyPod(core, 'proc', 30_000)
      return (await isRedisProcess(pidOf(pod))) ? pod : undefined
    }, 30_000)
    await stopChild(first, 'SIGKILL')
    expect(await isRedisProcess(pidOf(before))).toBe(true)

    const second = runKubelet()
    const after = await waitFor('proc restarted by the next kubelet', async () => {
      const pod = await core.readNamespacedPod({name: 'proc', namespace: NAMESPACE})
      return pidOf(pod) !== pidOf(before) && pod.status?.containerStatuses?.[0]?.ready ? pod : undefined
    }, 30_000)
    expect(await isRedisProcess(pidOf(before))).toBe(false)
    expect(after.status!.podIP).toBe(before.status!.podIP)

    await core.deleteNamespacedPod({name: 'proc', namespace: NAMESPACE})
    await podGone(core, 'proc', after.metadata!.uid!)
    expect(await isRedisProcess(pidOf(after))).toBe(false)
    expect(await stopChild(second, 'SIGTERM')).toBe(0)
  })

  it('runs the binary its --image-map file names for an image', async () => {
    const map = join(root, 'image-map')
    await writeFile(map, `cache:2=${findServerBinary('redis-server')}\n`)
    const kubelet = runKubelet(['--image-map', map])
    await core.createNamespacedPod({namespace: NAMESPACE, body: redisPod('mapped', NODE, {containers: [{name: 'redis', image: 'cache:2', args: ['--save', '']}]})})
    const pod = await readyPod(core, 'mapped', 30_000)
    expect(await redisCommand(pod.status!.podIP!, 6379, 'PING')).toBe('PONG')
    await core.deleteNamespacedPod({name: 'mapped', namespace: NAMESPACE})
    await podGone(core, 'mapped', pod.metadata!.uid!)
    expect(await stopChild(kubelet, 'SIGTERM')).toBe(0)
  })

  it('serves port-forward behind the API server with a kubelet\'s serving flags; killed, it takes the forward with it though the pod answers', async () => {
    const kubelet = runKubelet(['--node-ip', NODE_IP, '--port', '10251', '--tls-cert-file', certs.cert, '--tls-private-key-file', certs.key,
      '--client-ca-file', certs.ca, '--anonymous-auth=false'])
    await core.createNamespacedPod({namespace: NAMESPACE, body: redisPod('forwarded', NODE)})
    const pod = await readyPod(core, 'forwarded', 30_000)
    const node = await core.readNode({name: NODE})
    expect(node.status?.addresses).toContainEqual({type: 'InternalIP', address: NODE_IP})
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10251)

    const forward = await clientNodeForward(kubeConfigFor(api.url, api.adminToken), NAMESPACE, 'forwarded')
    try {
      expect(await setAndGet(forward.port, 'through the kubelet process')).toBe('PONG through the kubelet process')
    } finally {
      await forward.close()
    }

    await stopChild(kubelet, 'SIGKILL')
    expect(await redisCommand(pod.status!.podIP!, 6379, 'GET', 'forwarded')).toBe('through the kubelet process')
    const refused = await refusal(api, NAMESPACE, 'forwarded')
    expect(refused.status).toBe(500)
    expect(JSON.parse(refused.body)).toMatchObject({message: `error dialing backend: dial tcp ${NODE_IP}:10251: connect: connection refused`})
    expect(await stopLeftoverServers(join(root, 'state'))).toEqual([pidOf(pod)])
  })
})

import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer, type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {V1Pod} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type Kubelet, startKubelet} from '../../src/sandbox/kubelet/index.js'
import {sandboxPki} from '../../src/sandbox/pki.js'
import {startRedisNodes, type RedisNodes} from '../support/redis-nodes.js'
import {type ApiFixture, eventually, kubectl, startApiFixture} from './apiserver-fixture.js'
import {mergePatch, NAMESPACE, prepareCluster, readyPod, redisCommand, redisPod, waitFor} from './kubelet-harness.js'
import {clientNodeForward, refusal, setAndGet} from './port-forward-clients.js'

/**
 * pods/portforward through the API server to the pod's kubelet, with the certificates the sandbox uses (the API
 * server verifies the kubelet and shows it a client certificate; the kubelet lets no anonymous caller in).
 */
const NODE = 'pf-node'
/** 127.61.x: below the 127.64-199 /16s that sandboxes started without --pod-ip-range take, in this or another test run. */
const NODE_IP = '127.61.255.1'

let api: ApiFixture
let kubelet: Kubelet
let redis: RedisNodes
let root: string
let redis0: V1Pod

/** Pods the API server knows on nodes without a working kubelet; their "pod IP" is a live redis-server, so that a stream that reached it would work. */
async function podOnNode(name: string, node: string, status?: {ip: string}): Promise<void> {
  await api.core.createNamespacedPod({namespace: NAMESPACE, body: redisPod(name, node)})
  if (status) {
    await api.core.patchNamespacedPodStatus({namespace: NAMESPACE, name, body: [
      {op: 'replace', path: '/status/phase', value: 'Running'},
      {op: 'add', path: '/status/podIP', value: status.ip},
    ]})
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'apiserver-portforward-'))
  const pki = await sandboxPki([NODE], [NODE_IP])
  ;[api, redis] = await Promise.all([
    startApiFixture({kubeletClient: {ca: pki.ca, ...pki.apiserverKubeletClient}}),
    startRedisNodes(1, {cluster: false}),
  ])
  await prepareCluster(api.core, [NODE, 'gone-node', 'stranger-node'])
  // Without the kubernetes.io/hostname label too, which kube-apiserver would take for a Hostname address.
  await api.core.createNode({body: {metadata: {name: 'no-address-node'}}})
  kubelet = await startKubelet(api.kc, {
    nodeNames: [NODE], stateDir: join(root, 'kubelet'), ipRange: '127.61.0.0/16',
    serving: {tls: pki.kubeletServing, clientCa: pki.ca, anonymousAuth: false},
  })
  await api.core.createNamespacedPod({namespace: NAMESPACE, body: redisPod('redis-0', NODE)})
  await api.core.createNamespacedPod({namespace: NAMESPACE, body: redisPod('nginx-0', NODE, {containers: [{name: 'web', image: 'nginx:1.27', command: ['nginx', '-g', 'daemon off;']}]})})
  redis0 = await readyPod(api.core, 'redis-0', 30_000)

  await api.core.createNamespacedPod({namespace: NAMESPACE, body: {...redisPod('unscheduled-0', NODE), spec: {containers: [{name: 'redis', image: 'redis:7.0'}]}}})
  await podOnNode('no-address-0', 'no-address-node')
  await podOnNode('gone-0', 'gone-node', {ip: redis.nodes[0].host})
  await api.core.patchNodeStatus({name: 'gone-node', body: {status: {addresses: [{type: 'InternalIP', address: '127.61.254.254'}], daemonEndpoints: {kubeletEndpoint: {Port: 10250}}}}}, mergePatch)
  // A node whose status points at pf-node's kubelet, which runs no such pod.
  await podOnNode('stranger-0', 'stranger-node', {ip: redis.nodes[0].host})
  await api.core.patchNodeStatus({name: 'stranger-node', body: {status: {addresses: [{type: 'InternalIP', address: NODE_IP}], daemonEndpoints: {kubeletEndpoint: {Port: 10250}}}}}, mergePatch)
}, 60_000)

afterAll(async () => {
  await kubelet?.stop()
  await api?.stop()
  await redis?.stop()
  if (root) await rm(root, {recursive: true, force: true})
})

/** Starts `kubectl port-forward` on a free local port and waits until it says it is forwarding. */
async function kubectlForward(pod: string, websockets: boolean): Promise<{port: number; child: ChildProcess; output: () => string}> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as AddressInfo).port
      probe.close(() => resolve(p))
    })
  })
  const child = spawn('kubectl', ['--kubeconfig', api.kubeconfig, '-n', NAMESPACE, 'port-forward', '--address', '127.0.0.1', `pod/${pod}`, `${port}:6379`],
    {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: String(websockets)}})
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  await eventually(() => expect(out).toContain(`Forwarding from 127.0.0.1:${port} -> 6379`), 10_000)
  return {port, child, output: () => out}
}

const status = (code: number, message: string, reason?: string) =>
  ({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, ...(reason ? {reason} : {}), code})

describe('the kubelet behind the API server', () => {
  it('advertises its HTTPS endpoint on the Node: the InternalIP from the pod IP range\'s last /24, port 10250', async () => {
    const node = await api.core.readNode({name: NODE})
    expect(node.status?.addresses).toContainEqual({type: 'InternalIP', address: NODE_IP})
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10250)
    expect(redis0.status?.hostIP).toBe(NODE_IP)
    expect(redis0.status?.podIP).toMatch(/^127\.61\.0\./)
  })
})

describe('port-forward through client-node (WebSocket, v4.channel.k8s.io): API server -> kubelet -> pod', () => {
  it('carries ioredis commands to the pod\'s redis-server, and the write lands there', async () => {
    const forward = await clientNodeForward(api.kc, NAMESPACE, 'redis-0')
    try {
      expect(await setAndGet(forward.port, 'client-node')).toBe('PONG client-node')
      expect(await setAndGet(forward.port, 'again')).toBe('PONG again')
    } finally {
      await forward.close()
    }
    expect(await redisCommand(redis0.status!.podIP!, 6379, 'GET', 'forwarded')).toBe('again')
  })
})

describe('kubectl port-forward (SPDY/3.1): API server -> kubelet -> pod', () => {
  it.each([
    ['tunnelled through WebSocket', true],
    ['on a SPDY upgrade', false],
  ])('carries redis commands %s', async (how, websockets) => {
    const forward = await kubectlForward('redis-0', websockets)
    try {
      expect(await setAndGet(forward.port, how), forward.output()).toBe(`PONG ${how}`)
      expect(await setAndGet(forward.port, how), forward.output()).toBe(`PONG ${how}`)
      expect(forward.output()).not.toContain('error')
    } finally {
      forward.child.kill()
    }
    expect(await redisCommand(redis0.status!.podIP!, 6379, 'GET', 'forwarded')).toBe(how)
  })

  it('says the pod is not running (kubectl reads the pod\'s phase first)', async () => {
    const res = await kubectl(api, ['-n', NAMESPACE, 'port-forward', 'pod/no-address-0', '0:6379'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('unable to forward port because pod is not running. Current status=Pending')
  })
})

describe('refusals, as kube-apiserver and the kubelet give them', () => {
  it.each([
    ['a pod that does not exist', 'ghost', 404, 'pods "ghost" not found', 'NotFound'],
    ['a pod not scheduled', 'unscheduled-0', 400, 'pod unscheduled-0 does not have a host assigned', 'BadRequest'],
  ])('the API server refuses %s with a Status', async (_what, pod, code, message, reason) => {
    const refused = await refusal(api.server, NAMESPACE, pod)
    expect(refused).toMatchObject({status: code, type: 'application/json'})
    expect(JSON.parse(refused.body)).toMatchObject(status(code, message, reason))
  })

  it('the API server refuses a pod on a node without an address with a Status that has no reason', async () => {
    const refused = await refusal(api.server, NAMESPACE, 'no-address-0')
    expect(refused).toMatchObject({status: 500, type: 'application/json'})
    expect(JSON.parse(refused.body)).toEqual(status(500, 'no preferred addresses found; known addresses: []'))
  })

  it('the API server never dials the pod: with its kubelet unreachable the stream fails, though the pod answers', async () => {
    const refused = await refusal(api.server, NAMESPACE, 'gone-0')
    expect(refused.status).toBe(500)
    expect(JSON.parse(refused.body)).toEqual(status(500, 'error dialing backend: dial tcp 127.61.254.254:10250: connect: connection refused'))
    expect(await redisCommand(redis.nodes[0].host, 6379, 'PING')).toBe('PONG')
  })

  it('kubectl port-forward to that pod exits 1 naming the unreachable kubelet', async () => {
    const res = await kubectl(api, ['-n', NAMESPACE, 'port-forward', 'pod/gone-0', '0:6379'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('error dialing backend: dial tcp 127.61.254.254:10250: connect: connection refused')
  })

  it('the kubelet\'s own refusal of a pod it does not run reaches the client as it wrote it', async () => {
    expect(await refusal(api.server, NAMESPACE, 'stranger-0')).toEqual({status: 404, type: 'text/plain; charset=utf-8', body: 'pod does not exist'})
  })

  it('the kubelet refuses a pod it failed (its container is no redis-server), having no IP to forward to', async () => {
    await waitFor('nginx-0 failed by the kubelet', async () => (await api.core.readNamespacedPod({name: 'nginx-0', namespace: NAMESPACE})).status?.phase === 'Failed')
    expect(await refusal(api.server, NAMESPACE, 'nginx-0')).toEqual({status: 500, type: 'text/plain; charset=utf-8', body: `pod not found ("nginx-0_${NAMESPACE}")`})
  })
})

import {spawn, type ChildProcess} from 'node:child_process'
import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'

import {PortForward} from '@kubernetes/client-node'
import {Redis} from 'ioredis'
import {WebSocket} from 'ws'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startRedisNodes, type RedisNodes} from '../support/redis-nodes.js'
import {type ApiFixture, eventually, kubectl, podManifest, startApiFixture} from './apiserver-fixture.js'

let api: ApiFixture
let redis: RedisNodes
beforeAll(async () => {
  ;[api, redis] = await Promise.all([startApiFixture(), startRedisNodes(1, {cluster: false})])
  await api.core.createNamespacedPod({namespace: 'default', body: podManifest('redis-0')})
  await api.core.createNamespacedPodBinding({namespace: 'default', name: 'redis-0', body: {metadata: {name: 'redis-0'}, target: {kind: 'Node', name: 'node-1'}}})
  await api.core.patchNamespacedPodStatus({namespace: 'default', name: 'redis-0', body: [
    {op: 'replace', path: '/status/phase', value: 'Running'},
    {op: 'add', path: '/status/podIP', value: redis.nodes[0].host},
  ]})
  await api.core.createNamespacedPod({namespace: 'default', body: podManifest('pending-0')})
  await api.core.createNamespacedPodBinding({namespace: 'default', name: 'pending-0', body: {metadata: {name: 'pending-0'}, target: {kind: 'Node', name: 'node-1'}}})
  await api.core.createNamespacedPod({namespace: 'default', body: podManifest('unscheduled-0')})
})
afterAll(async () => {
  await api?.stop()
  await redis?.stop()
})

async function ping(port: number): Promise<string> {
  const client = new Redis({host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null})
  client.on('error', () => {})
  try {
    await client.connect()
    await client.set('forwarded', 'yes')
    return `${await client.ping()} ${await client.get('forwarded')}`
  } finally {
    client.disconnect()
  }
}

/** A local listener that forwards each connection through client-node's PortForward, as src/kube/port-forward.ts does. */
async function clientNodeForward(pod: string): Promise<{port: number; close(): Promise<void>}> {
  const forwarder = new PortForward(api.kc)
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    forwarder.portForward('default', pod, [6379], socket, null, socket).catch(() => socket.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Starts `kubectl port-forward` on a free local port and waits until it says it is forwarding. */
async function kubectlForward(pod: string, websockets: boolean): Promise<{port: number; child: ChildProcess; output: () => string}> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as AddressInfo).port
      probe.close(() => resolve(p))
    })
  })
  const child = spawn('kubectl', ['--kubeconfig', api.kubeconfig, 'port-forward', '--address', '127.0.0.1', `pod/${pod}`, `${port}:6379`],
    {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: String(websockets)}})
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  await eventually(() => expect(out).toContain(`Forwarding from 127.0.0.1:${port} -> 6379`), 10_000)
  return {port, child, output: () => out}
}

describe('port-forward through client-node (WebSocket, v4.channel.k8s.io)', () => {
  it('carries a Redis PING to the pod\'s redis-server', async () => {
    const forward = await clientNodeForward('redis-0')
    try {
      expect(await ping(forward.port)).toBe('PONG yes')
      expect(await ping(forward.port)).toBe('PONG yes')
    } finally {
      await forward.close()
    }
  })

  it.each([
    ['pending-0', 400, 'BadRequest', 'unable to forward port because pod is not running. Current status=Pending'],
    ['unscheduled-0', 400, 'BadRequest', 'pod unscheduled-0 does not have a host assigned'],
    ['ghost', 404, 'NotFound', 'pods "ghost" not found'],
  ])('refuses the upgrade for %s with a Status', async (pod, code, reason, message) => {
    const refusal = await new Promise<{status: number; body: string}>((resolve, reject) => {
      const ws = new WebSocket(`${api.server.url.replace('http', 'ws')}/api/v1/namespaces/default/pods/${pod}/portforward?ports=6379`, ['v4.channel.k8s.io'])
      ws.on('open', () => reject(new Error('upgraded')))
      ws.on('error', () => {})
      ws.on('unexpected-response', (_req, res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
      })
    })
    expect(refusal.status).toBe(code)
    expect(JSON.parse(refusal.body)).toMatchObject({kind: 'Status', status: 'Failure', reason, message, code})
  })
})

describe('kubectl port-forward (SPDY/3.1)', () => {
  it.each([
    ['tunneled through WebSocket', true],
    ['on a SPDY upgrade', false],
  ])('carries a Redis PING %s', async (_how, websockets) => {
    const forward = await kubectlForward('redis-0', websockets)
    try {
      expect(await ping(forward.port)).toBe('PONG yes')
      expect(await ping(forward.port)).toBe('PONG yes')
      expect(forward.output()).not.toContain('error')
    } finally {
      forward.child.kill()
    }
  })

  it('says the pod is not running', async () => {
    const res = await kubectl(api, ['port-forward', 'pod/pending-0', '0:6379'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('unable to forward port because pod is not running. Current status=Pending')
  })
})

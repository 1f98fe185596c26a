import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'

import {type KubeConfig, PortForward} from '@kubernetes/client-node'
import {Redis} from 'ioredis'
import {WebSocket} from 'ws'

import type {RunningApiServer} from '../../src/sandbox/apiserver/server.js'

/** The clients of the port-forward tests: client-node's PortForward behind a local listener, ioredis, a raw WebSocket. */

/** A local listener that forwards each connection through client-node's PortForward, as src/kube/port-forward.ts does. */
export async function clientNodeForward(kc: KubeConfig, namespace: string, pod: string): Promise<{port: number; close(): Promise<void>}> {
  const forwarder = new PortForward(kc)
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    forwarder.portForward(namespace, pod, [6379], socket, null, socket).catch(() => socket.destroy())
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

/** SET then PING and GET through a local port: "PONG <value>" when the forward carries them. */
export async function setAndGet(port: number, value: string): Promise<string> {
  const client = new Redis({host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null})
  client.on('error', () => {})
  try {
    await client.connect()
    await client.set('forwarded', value)
    return `${await client.ping()} ${await client.get('forwarded')}`
  } finally {
    client.disconnect()
  }
}

/** How an API server answers a WebSocket port-forward it does not upgrade (as its admin, unless a token is given): status, content type and body. */
export function refusal(server: RunningApiServer, namespace: string, pod: string, token = server.adminToken): Promise<{status: number; type: string; body: string}> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace('https', 'wss')}/api/v1/namespaces/${namespace}/pods/${pod}/portforward?ports=6379`, ['v4.channel.k8s.io'],
      {headers: {Authorization: `Bearer ${token}`}, ca: server.ca})
    ws.on('open', () => reject(new Error('upgraded')))
    ws.on('error', () => {})
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, type: String(res.headers['content-type']), body}))
    })
  })
}

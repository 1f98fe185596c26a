import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'

import {PortForward} from '@kubernetes/client-node'

import {ForbiddenError, type RedisctlError} from '../errors.js'
import type {NodeAddress} from '../redis/connection.js'
import {addressKey} from '../redis/connection.js'
import {canIHint, rbacHint, unauthorized} from './api-errors.js'
import type {Kube} from './context.js'
import {PORT_FORWARD} from './permissions.js'
import type {RedisPod} from './pods.js'

/** Local ports that reach pods through the Kubernetes API, for laptops outside the cluster network. */
export interface PortForwards {
  /** Maps a pod's cluster address to the local address that reaches it; unknown addresses pass through. */
  route(addr: NodeAddress): NodeAddress
  /** The API server's refusal of a forward (401 or 403), if one came: what made the pods unreachable. */
  refusal(): RedisctlError | undefined
  close(): Promise<void>
}

/** client-node's WebSocket handshake fails with the HTTP status in its message and no body. */
function refusalOf(error: unknown, kube: Kube, pod: string): RedisctlError | undefined {
  const code = Number(/Unexpected server response: (\d+)/.exec(String((error as Error)?.message ?? error))?.[1])
  if (code === 401) return unauthorized(`port-forwarding to pod ${pod}`, kube.server)
  if (code !== 403) return undefined
  return new ForbiddenError(`The Kubernetes API refused to port-forward to pod ${pod} (403 Forbidden): this identity may not get pods/portforward in namespace ${kube.namespace}.`, [
    `Grant get and create on pods/portforward (a WebSocket upgrade is authorized as get; SPDY, and servers from 1.35, also want create); ${rbacHint(kube.namespace)}`,
    `Check with: ${canIHint(PORT_FORWARD[0], kube.namespace)}`,
  ])
}

export async function openPortForwards(kube: Kube, pods: RedisPod[]): Promise<PortForwards> {
  const forwarder = new PortForward(kube.kc)
  const routes = new Map<string, NodeAddress>()
  const servers: Server[] = []
  const sockets = new Set<Socket>()
  let refusal: RedisctlError | undefined
  for (const pod of pods) {
    if (!pod.ip) continue
    const server = createServer((socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      forwarder.portForward(kube.namespace, pod.name, [pod.port], socket, null, socket).then((ws) => {
        // When the pod's end goes (its redis-server stopped, the pod was deleted), ours must too: a client on a
        // socket that stays open would wait for its reply forever.
        if (typeof ws !== 'function') ws.on('close', () => socket.destroy())
      }, (error: unknown) => {
        refusal ??= refusalOf(error, kube, pod.name)
        socket.destroy()
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    servers.push(server)
    routes.set(addressKey({host: pod.ip, port: pod.port}), {host: '127.0.0.1', port: (server.address() as AddressInfo).port})
  }
  return {
    route: (addr) => routes.get(addressKey(addr)) ?? addr,
    refusal: () => refusal,
    async close() {
      for (const socket of sockets) socket.destroy()
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    },
  }
}

import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'

import {PortForward} from '@kubernetes/client-node'

import {ForbiddenError, type RedisctlError} from '../errors.js'
import type {NodeAddress} from '../redis/connection.js'
import {addressKey} from '../redis/connection.js'
import {canIHint, rbacHint, unauthorized} from './api-errors.js'
import type {Kube} from './context.js'
import {PORT_FORWARD} from './permissions.js'
import type {RedisPod} from './pods.js'

/**
 * Local ports that reach pods through the Kubernetes API, for laptops outside the cluster network. One local port per
 * pod name, each connection to it a forward of its own: kube-apiserver finds the pod by name for every forward
 * (PortForwardLocation), so a pod recreated under its name (a StatefulSet's, at a new IP) is reached through the
 * same port again.
 */
export interface PortForwards {
  /** Maps a pod's cluster address to the local address that reaches it; unknown addresses pass through. */
  route(addr: NodeAddress): NodeAddress
  /** The local address that reaches the pod at this cluster address; undefined while no listing named a pod there. */
  forwardTo(addr: NodeAddress): NodeAddress | undefined
  /** Takes a newer listing: a pod at a new IP is routed there, a new pod gets a port. True when a route changed. */
  learn(pods: readonly RedisPod[]): Promise<boolean>
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

export async function openPortForwards(kube: Kube, pods: readonly RedisPod[]): Promise<PortForwards> {
  const forwarder = new PortForward(kube.kc)
  const localByPod = new Map<string, NodeAddress>()
  const podByAddress = new Map<string, string>()
  const addressOfPod = new Map<string, string>()
  const opening = new Map<string, Promise<void>>()
  const servers: Server[] = []
  const sockets = new Set<Socket>()
  let refusal: RedisctlError | undefined
  let closed = false

  const listen = async (pod: RedisPod): Promise<void> => {
    const server = createServer((socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      // A client that hung up before its reply came back: client-node still writes the reply to this socket, which
      // then fails (EPIPE). That connection is over; left unhandled, the error would end the whole command.
      socket.on('error', () => socket.destroy())
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
    // A listing taken while close() ran: the port is not handed out, and closes with the others.
    if (closed) server.close()
    localByPod.set(pod.name, {host: '127.0.0.1', port: (server.address() as AddressInfo).port})
  }

  const learn = async (listed: readonly RedisPod[]): Promise<boolean> => {
    let changed = false
    for (const pod of listed) {
      if (!pod.ip || closed) continue
      if (!localByPod.has(pod.name)) {
        const open = opening.get(pod.name) ?? listen(pod).finally(() => opening.delete(pod.name))
        opening.set(pod.name, open)
        await open
      }
      const key = addressKey({host: pod.ip, port: pod.port})
      if (podByAddress.get(key) === pod.name) continue
      const before = addressOfPod.get(pod.name)
      // Its old address leads nowhere now, unless another pod has been given it since.
      if (before && podByAddress.get(before) === pod.name) podByAddress.delete(before)
      podByAddress.set(key, pod.name)
      addressOfPod.set(pod.name, key)
      changed = true
    }
    return changed
  }

  const forwardTo = (addr: NodeAddress): NodeAddress | undefined => {
    const pod = podByAddress.get(addressKey(addr))
    return pod === undefined ? undefined : localByPod.get(pod)
  }
  await learn(pods)
  return {
    route: (addr) => forwardTo(addr) ?? addr,
    forwardTo,
    learn,
    refusal: () => refusal,
    async close() {
      closed = true
      for (const socket of sockets) socket.destroy()
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    },
  }
}

import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'

import {PortForward} from '@kubernetes/client-node'

import type {NodeAddress} from '../redis/connection.js'
import {addressKey} from '../redis/connection.js'
import type {Kube} from './context.js'
import type {RedisPod} from './pods.js'

/** Local ports that reach pods through the Kubernetes API, for laptops outside the cluster network. */
export interface PortForwards {
  /** Maps a pod's cluster address to the local address that reaches it; unknown addresses pass through. */
  route(addr: NodeAddress): NodeAddress
  close(): Promise<void>
}

export async function openPortForwards(kube: Kube, pods: RedisPod[]): Promise<PortForwards> {
  const forwarder = new PortForward(kube.kc)
  const routes = new Map<string, NodeAddress>()
  const servers: Server[] = []
  const sockets = new Set<Socket>()
  for (const pod of pods) {
    if (!pod.ip) continue
    const server = createServer((socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      forwarder.portForward(kube.namespace, pod.name, [pod.port], socket, null, socket).catch(() => socket.destroy())
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
    async close() {
      for (const socket of sockets) socket.destroy()
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    },
  }
}

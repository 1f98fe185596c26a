import {isIP} from 'node:net'

import type {Cluster} from 'ioredis'

import type {RedisPod} from '../kube/pods.js'
import type {ClientNode, TrafficConnection} from '../redis/traffic.js'
import {tlsConnectOptions} from '../tls/client.js'
import type {NodeAddress} from '../topology/observation.js'
import type {PodsTls} from './session.js'

/** While nodes keep failing (every retry of every worker fails alike), the pods are listed at most this often. */
const RELIST_MS = 250

/**
 * How a cluster client (drill failover's writer) reaches TLS nodes from where redisctl runs. The nodes give their
 * pods' DNS names (CLUSTER SLOTS, MOVED), which resolve only inside the cluster: natMap turns each into the pod's IP,
 * and every node is verified against the CA and its pod's DNS name, as the admin connections are (tlsConnectOptions).
 * A deleted pod comes back under its name at a new IP, so the pods are listed again when a name is unknown or a node
 * fails, and the client reads the slots again once it learnt an address: ioredis maps a name only as it reads them.
 */
export function followPods(tls: PodsTls, listPods: () => Promise<RedisPod[]>): {seed(addr: NodeAddress): ClientNode; connection: TrafficConnection} {
  const {addresses} = tls
  const clients: Cluster[] = []
  let listing = false
  let listedAt = 0
  const relist = (): void => {
    if (listing || Date.now() - listedAt < RELIST_MS) return
    listing = true
    void listPods().then((pods) => {
      if (!addresses.learn(pods)) return
      for (const client of clients) if (client.status === 'ready') client.refreshSlotsCache()
    }, () => {
      // A listing that failed is tried again at the next failure; meanwhile the writer counts its own errors.
    }).finally(() => {
      listing = false
      listedAt = Date.now()
    })
  }
  const node = (addr: NodeAddress): ClientNode => ({host: addr.host, port: addr.port, tls: tlsConnectOptions(tls, addr)})
  return {
    seed: node,
    connection: {
      natMap: (key) => {
        const colon = key.lastIndexOf(':')
        const host = key.slice(0, colon)
        const ip = isIP(host) ? host : addresses.ipOf(host)
        if (!ip) relist()
        // An unknown name is tried as it is: it resolves where redisctl runs inside the cluster, and is verified all the same.
        return node({host: ip ?? host, port: Number(key.slice(colon + 1))})
      },
      watch: (cluster) => {
        clients.push(cluster)
        cluster.on('node error', relist)
      },
    },
  }
}

import {isIP} from 'node:net'

import type {Cluster} from 'ioredis'

import type {RedisPod} from '../kube/pods.js'
import type {ClientNode, TrafficConnection} from '../redis/traffic.js'
import {tlsConnectOptions} from '../tls/client.js'
import type {NodeAddress} from '../topology/observation.js'
import type {RedisAccess} from './session.js'

/** While nodes keep failing (every retry of every worker fails alike), the pods are listed at most this often. */
const RELIST_MS = 250

/**
 * How a cluster client (drill failover's writer) reaches the nodes from where redisctl runs, as the admin connections
 * do (access): the nodes give addresses (CLUSTER SLOTS, MOVED) that are their pods' IPs, or on TLS their pods' DNS
 * names, which resolve only inside the cluster. natMap turns each into where its pod is reached from here: the pod's
 * IP (direct) or the local end of a port-forward to the pod (port-forward); a TLS node is verified against the CA and
 * its pod's DNS name wherever the connection goes (tlsConnectOptions). A deleted pod comes back under its name at a
 * new IP, so the pods are listed again when an address is unknown or a node fails, and the client reads the slots
 * again once access learnt a new address: ioredis maps an address only as it reads them.
 */
export function followPods(access: RedisAccess, listPods: () => Promise<RedisPod[]>): {seed(addr: NodeAddress): ClientNode; connection: TrafficConnection} {
  const {tls} = access
  const clients: Cluster[] = []
  let listing = false
  let listedAt = 0
  const relist = (): void => {
    if (listing || Date.now() - listedAt < RELIST_MS) return
    listing = true
    void listPods().then(async (pods) => {
      if (!(await access.learn(pods))) return
      for (const client of clients) if (client.status === 'ready') client.refreshSlotsCache()
    }).catch(() => {
      // A listing (or a forward) that failed is tried again at the next failure; meanwhile the writer counts its own errors.
    }).finally(() => {
      listing = false
      listedAt = Date.now()
    })
  }
  const node = (addr: NodeAddress): ClientNode => {
    const reached = access.reach(addr)
    // An address not known yet is tried as it is (the pod IP or name may answer from here), until a listing teaches it.
    if (!reached) relist()
    return {...(reached ?? addr), ...(tls ? {tls: tlsConnectOptions(tls, addr)} : {})}
  }
  return {
    seed: node,
    connection: {
      natMap: (key) => {
        const colon = key.lastIndexOf(':')
        const host = key.slice(0, colon)
        const ip = isIP(host) ? host : tls?.addresses.ipOf(host)
        if (!ip) relist()
        return node({host: ip ?? host, port: Number(key.slice(colon + 1))})
      },
      watch: (cluster) => {
        clients.push(cluster)
        cluster.on('node error', relist)
      },
    },
  }
}

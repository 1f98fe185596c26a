import {spawnSync} from 'node:child_process'

import {Cluster, Redis} from 'ioredis'

import {parseClusterNodes} from '../../src/redis/cluster-nodes.js'
import {RedisConnector, type NodeAddress} from '../../src/redis/connection.js'
import {formCluster} from '../../src/redis/form.js'
import type {MasterRef} from '../../src/redis/migrate-slots.js'
import type {PodRef} from '../../src/topology/model.js'
import type {MasterSlots} from '../../src/topology/rebalance.js'
import {rangesToSlots, SLOT_COUNT, splitEvenly} from '../../src/topology/slots.js'
import {type RedisNodes, startRedisNodes} from './redis-nodes.js'

/**
 * A small cluster of masters (some of them empty) formed by redisctl's own forming code, for the migration
 * tests, plus test data that covers every slot.
 */
export interface TestCluster {
  servers: RedisNodes
  /** Every master, the ones holding slots first (splitEvenly order), then the empty ones. */
  masters: MasterRef[]
  /** A plain client per node (masters first, then replicas), for assertions. */
  clients: Redis[]
  /** The nodes' requirepass, when they were started with one. */
  password?: string
  stop(): Promise<void>
}

/** `replicasOf[j]` is the index of the master that the j-th node after the masters follows. */
export async function startTestCluster(options: {masters: number; emptyMasters?: number; replicasOf?: number[]; extraConfig?: string[]; password?: string}): Promise<TestCluster> {
  const masterCount = options.masters + (options.emptyMasters ?? 0)
  const replicasOf = options.replicasOf ?? []
  const {password} = options
  const servers = await startRedisNodes(masterCount + replicasOf.length, {extraConfig: options.extraConfig, password})
  const clients = servers.nodes.map((n) => new Redis({host: n.host, port: n.port, password, protocol: 2, maxRetriesPerRequest: 1}))
  try {
    const ids = await Promise.all(clients.map(async (c) => String(await c.call('CLUSTER', 'MYID'))))
    const ranges = splitEvenly(options.masters)
    const pods = testPods(servers)
    const connector = new RedisConnector(password ? {credentials: {password}} : {})
    try {
      const replicas = pods.slice(masterCount)
      await formCluster(connector, {shards: pods.slice(0, masterCount).map((master, i) => ({
        master, slots: i < options.masters ? [ranges[i]] : [], replicas: replicas.filter((_, j) => replicasOf[j] === i),
      }))}, {timeoutMs: 30_000})
    } finally {
      await connector.closeAll()
    }
    const masters = servers.nodes.slice(0, masterCount).map((n, i) => ({id: ids[i], address: {host: n.host, port: n.port}}))
    return {
      servers, masters, clients, password,
      async stop() {
        clients.forEach((c) => c.disconnect())
        await servers.stop()
      },
    }
  } catch (error) {
    clients.forEach((c) => c.disconnect())
    await servers.stop()
    throw error
  }
}

/** Every node as a pod at its current address: node-0, node-1, ... in start order. */
export const testPods = (servers: RedisNodes): PodRef[] => servers.nodes.map((n, i) => ({pod: `node-${i}`, ordinal: i, ip: n.host, port: n.port}))

let tagsBySlot: string[] | undefined

/** For every slot, a hash tag that lands in it, found by asking Redis (CLUSTER KEYSLOT) rather than re-implementing CRC16. */
async function slotTags(client: Redis): Promise<string[]> {
  if (tagsBySlot) return tagsBySlot
  const tags: string[] = new Array(SLOT_COUNT)
  let found = 0
  for (let base = 0; found < SLOT_COUNT; base += 20_000) {
    const candidates = Array.from({length: 20_000}, (_, i) => (base + i).toString(36))
    const pipeline = client.pipeline()
    for (const c of candidates) pipeline.call('CLUSTER', 'KEYSLOT', c)
    const slots = (await pipeline.exec())!.map(([, slot]) => Number(slot))
    slots.forEach((slot, i) => {
      if (tags[slot] === undefined) {
        tags[slot] = candidates[i]
        found += 1
      }
    })
  }
  tagsBySlot = tags
  return tags
}

/** Three masters A, B and C holding `keys` keys: what the open-slot files share, their clients and ids by letter. */
export interface ThreeMasters {
  cluster: TestCluster
  data: TestData
  clients: [Redis, Redis, Redis]
  ids: {a: string; b: string; c: string}
}

export async function threeMastersWithKeys(keys: number): Promise<ThreeMasters> {
  const cluster = await startTestCluster({masters: 3})
  const data = await fillEverySlot(cluster, keys)
  const [a, b, c] = cluster.masters.map((m) => m.id)
  return {cluster, data, clients: cluster.clients as [Redis, Redis, Redis], ids: {a, b, c}}
}

export interface TestData {
  count: number
  key(i: number): string
  value(i: number): string
}

/**
 * Writes `count` keys with values of `valueBytes` bytes, key i in slot i mod 16384, so that every slot holds
 * keys. Written to each slot's owner directly, pipelined.
 */
export async function fillEverySlot(cluster: Pick<TestCluster, 'masters' | 'clients'>, count: number, valueBytes = 100): Promise<TestData> {
  const tags = await slotTags(cluster.clients[0])
  const data: TestData = {
    count,
    key: (i) => `{${tags[i % SLOT_COUNT]}}:${i}`,
    value: (i) => `${i}:`.padEnd(valueBytes, 'v'),
  }
  const ownerOfSlot = new Int32Array(SLOT_COUNT)
  for (const line of parseClusterNodes(String(await cluster.clients[0].call('CLUSTER', 'NODES')))) {
    const index = cluster.masters.findIndex((m) => m.id === line.id)
    for (const s of rangesToSlots(line.slots)) ownerOfSlot[s] = index
  }
  const chunk = 5000
  for (let start = 0; start < count; start += chunk) {
    const pipelines = cluster.clients.map((c) => c.pipeline())
    for (let i = start; i < Math.min(count, start + chunk); i++) pipelines[ownerOfSlot[i % SLOT_COUNT]].set(data.key(i), data.value(i))
    await Promise.all(pipelines.map((p) => p.exec()))
  }
  return data
}

/** Reads keys back through a cluster client (following MOVED/ASK), all or the given ones; returns those missing or wrong. */
export async function missingOrWrong(cluster: TestCluster, data: TestData, only?: readonly number[]): Promise<number[]> {
  const client = clusterClient(cluster)
  const all = only ?? Array.from({length: data.count}, (_, i) => i)
  try {
    const bad: number[] = []
    const chunk = 5000
    for (let start = 0; start < all.length; start += chunk) {
      const indexes = all.slice(start, start + chunk)
      const values = await Promise.all(indexes.map((i) => client.get(data.key(i))))
      indexes.forEach((i, j) => { if (values[j] !== data.value(i)) bad.push(i) })
    }
    return bad
  } finally {
    client.disconnect()
  }
}

/**
 * A cluster client following MOVED/ASK. Without auto-pipelining: while slots move, ioredis fails a pipelined
 * command with the redirection itself when its neighbours in the pipeline were not redirected.
 */
export function clusterClient(cluster: TestCluster): Cluster {
  const [first] = cluster.servers.nodes
  return new Cluster([{host: first.host, port: first.port}], {redisOptions: {protocol: 2, password: cluster.password}})
}

/** Each master's slots as node 0 sees them, for the planners. */
export async function observedMasters(cluster: TestCluster): Promise<MasterSlots[]> {
  const lines = parseClusterNodes(String(await cluster.clients[0].call('CLUSTER', 'NODES')))
  return cluster.masters.map((m) => ({id: m.id, slots: lines.find((l) => l.id === m.id)?.slots ?? []}))
}

/** Every master's address by ID, as executeMoves takes them. */
export const addressesById = (cluster: TestCluster): Map<string, NodeAddress> => new Map(cluster.masters.map((m) => [m.id, m.address]))

/** Slots some master still has MIGRATING or IMPORTING, by that master's own account. */
export async function openSlots(cluster: TestCluster): Promise<number[]> {
  const open = await Promise.all(cluster.clients.map(async (c) => {
    const myself = parseClusterNodes(String(await c.call('CLUSTER', 'NODES'))).find((l) => l.myself)!
    return [...myself.migrating.map((m) => m.slot), ...myself.importing.map((i) => i.slot)]
  }))
  return [...new Set(open.flat())].sort((a, b) => a - b)
}

/** `redis-cli --cluster check` (connectArgs: e.g. --tls and its files): its output, and whether it found nothing to complain about. */
export function redisCliCheck(cluster: TestCluster | Pick<TestCluster, 'masters'>, connectArgs: string[] = []): {ok: boolean; output: string} {
  // A whole test cluster is asked at its current addresses (its nodes may have restarted elsewhere).
  const {host, port} = 'servers' in cluster ? cluster.servers.nodes[0] : cluster.masters[0].address
  const password = 'password' in cluster ? cluster.password : undefined
  const run = spawnSync('redis-cli', [...connectArgs, '--cluster', 'check', `${host}:${port}`], {encoding: 'utf8', timeout: 30_000,
    env: password ? {...process.env, REDISCLI_AUTH: password} : process.env})
  const output = `${run.stdout}${run.stderr}`
  return {ok: run.status === 0 && !/\[ERR\]|\[WARNING\]/.test(output) && output.includes('[OK] All 16384 slots covered.'), output}
}

/** The hash tag of the test keys in a slot: a new key with it lands in the same slot. */
export const hashTagOf = (data: TestData, slot: number): string => data.key(slot).slice(0, data.key(slot).indexOf('}') + 1)

/** The master that node 0 sees owning the slot. */
export const slotOwner = async (cluster: TestCluster, slot: number): Promise<string | undefined> =>
  (await observedMasters(cluster)).find((m) => m.slots.some((r) => r.start <= slot && slot <= r.end))?.id

export const keysInSlot = async (node: Redis, slot: number): Promise<number> => Number(await node.call('CLUSTER', 'COUNTKEYSINSLOT', slot))

/** A key written straight onto a node that is importing the slot, as a client sent there by ASK would. */
export async function writeAsked(node: Redis, key: string): Promise<void> {
  await node.call('ASKING')
  await node.set(key, 'asked')
}

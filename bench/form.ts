/**
 * Forming a cluster with redisctl vs `redis-cli --cluster create`, on the same redis-server processes in the same
 * run. Both are timed until every node reports cluster_state:ok, agrees on the slot map and sees every replica
 * attached to its master (checked by the same probe), with the nodes reset in between.
 *
 *   node --import tsx bench/form.ts     3x1 at two node timeouts (3 rounds, alternating order), 30x1 redisctl only
 */
import {spawn} from 'node:child_process'

import {RedisConnector} from '../src/redis/connection.js'
import {formCluster} from '../src/redis/form.js'
import {observeCluster} from '../src/redis/observe.js'
import {isTentative, type NodeView, slotMapSignature} from '../src/topology/observation.js'
import {waitUntil} from '../src/util/wait.js'
import type {ClusterLayout, PodRef} from '../src/topology/model.js'
import {placeShards} from '../src/topology/placement.js'
import {splitEvenly} from '../src/topology/slots.js'
import {type RedisNodes, startRedisNodes} from '../test/support/redis-nodes.js'

const ROUNDS = 3

function layoutFor(nodes: RedisNodes, masters: number): ClusterLayout {
  const pods: PodRef[] = nodes.nodes.map((n, i) => ({pod: `redis-${i}`, ordinal: i, ip: n.host, port: n.port}))
  const ranges = splitEvenly(masters)
  return {shards: placeShards(pods, masters, 1).shards.map((s, i) => ({...s, slots: [ranges[i]]}))}
}

async function reset(connector: RedisConnector, nodes: RedisNodes): Promise<void> {
  await Promise.all(nodes.nodes.map(async (n) => {
    const client = await connector.client(n)
    // A replica refuses FLUSHALL (READONLY) and a master holding keys refuses CLUSTER RESET: replicas reset first.
    const [role] = await client.role() as [string]
    if (role === 'master') await client.flushall()
    await client.call('CLUSTER', 'RESET', 'HARD')
  }))
}

interface Finish {
  /** Every node knows every node, all agree on the slot map and see every replica attached to its master. */
  formed: number
  /** ... and every node reports cluster_state:ok. */
  ok: number
}

/** Polls the same two finish lines for both tools every 10 ms, from `started` on, while the tool runs. */
async function watchFinish(connector: RedisConnector, nodes: RedisNodes, masters: number, started: number): Promise<Finish> {
  let formedAt: number | undefined
  await waitUntil('the cluster to be formed', async () => {
    const views = (await observeCluster(connector, nodes.nodes)).views
    if (formedAt === undefined && isFormed(views, nodes.nodes.length, masters)) formedAt = performance.now() - started
    if (formedAt !== undefined && views.every((v) => v.info.state === 'ok')) return {done: true, value: undefined}
    return {done: false, missing: formedAt === undefined ? 'not formed' : 'cluster_state is not ok everywhere'}
  }, {timeoutMs: 60_000, intervalMs: 10})
  return {formed: formedAt!, ok: performance.now() - started}
}

function isFormed(views: NodeView[], count: number, masters: number): boolean {
  if (views.length < count || new Set(views.map(slotMapSignature)).size !== 1) return false
  if (views.some((v) => v.nodes.filter((n) => !isTentative(n)).length !== count)) return false
  const replicas = views.filter((v) => v.myself.role === 'replica')
  if (replicas.length !== count - masters) return false
  return replicas.every((replica) => {
    const master = views.find((v) => v.id === replica.myself.masterId)
    return master?.replication.replicas.some((r) => r.host === replica.address.host) &&
      views.every((v) => v.nodes.some((n) => n.id === replica.id && n.role === 'replica' && n.masterId === master.id))
  })
}

async function timeRedisctl(connector: RedisConnector, nodes: RedisNodes, masters: number): Promise<Finish> {
  const started = performance.now()
  const [finish] = await Promise.all([
    watchFinish(connector, nodes, masters, started),
    formCluster(connector, layoutFor(nodes, masters), {intervalMs: 10}),
  ])
  return finish
}

async function timeRedisCli(connector: RedisConnector, nodes: RedisNodes, masters: number): Promise<Finish> {
  const started = performance.now()
  const args = ['--cluster', 'create', ...nodes.nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']
  const [finish] = await Promise.all([
    watchFinish(connector, nodes, masters, started),
    new Promise<void>((resolve, reject) => {
      const child = spawn('redis-cli', args, {stdio: 'ignore'})
      child.once('error', reject)
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli exited with ${code}`))))
    }),
  ])
  return finish
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ms = (x: number): string => `${x.toFixed(0)} ms`.padStart(9)

async function compare3x1(nodeTimeoutMs: number): Promise<void> {
  const nodes = await startRedisNodes(6, {extraConfig: [`cluster-node-timeout ${nodeTimeoutMs}`]})
  const connector = new RedisConnector()
  try {
    // A fresh master holds cluster_state:fail for its first 2 s (CLUSTER_WRITABLE_DELAY); no tool should pay that here.
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const runs: Record<string, Finish[]> = {redisctl: [], 'redis-cli': []}
    for (let round = 0; round < ROUNDS; round++) {
      for (const tool of round % 2 === 0 ? ['redisctl', 'redis-cli'] : ['redis-cli', 'redisctl']) {
        await reset(connector, nodes)
        runs[tool].push(await (tool === 'redisctl' ? timeRedisctl : timeRedisCli)(connector, nodes, 3))
      }
    }
    console.log(`\nform 3 masters x 1 replica, 6 redis-server processes, cluster-node-timeout ${nodeTimeoutMs}`)
    printTable(runs)
  } finally {
    await connector.closeAll()
    await nodes.stop()
  }
}

function printTable(runs: Record<string, Finish[]>): void {
  const medians: Record<string, Finish> = {}
  for (const finish of ['formed', 'ok'] as const) {
    console.log(`  until ${finish === 'formed' ? 'formed (all known, slots agreed, replicas attached)' : 'cluster_state:ok on every node too'}`)
    console.log('  tool       ' + Array.from({length: ROUNDS}, (_, i) => `round ${i + 1}`.padStart(9)).join('') + '   median')
    for (const [tool, finishes] of Object.entries(runs)) {
      const times = finishes.map((f) => f[finish])
      medians[tool] = {...medians[tool], [finish]: median(times)}
      console.log(`  ${tool.padEnd(11)}` + times.map(ms).join('') + ms(median(times)))
    }
    if (runs['redis-cli']) console.log(`  ratio      redis-cli / redisctl = ${(medians['redis-cli'][finish] / medians.redisctl[finish]).toFixed(1)}x`)
  }
}

async function form30x1(): Promise<void> {
  const nodes = await startRedisNodes(60)
  const connector = new RedisConnector()
  try {
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const runs: Record<string, Finish[]> = {redisctl: []}
    for (let round = 0; round < ROUNDS; round++) {
      await reset(connector, nodes)
      runs.redisctl.push(await timeRedisctl(connector, nodes, 30))
    }
    console.log('\nform 30 masters x 1 replica, 60 redis-server processes, cluster-node-timeout 5000')
    printTable(runs)
  } finally {
    await connector.closeAll()
    await nodes.stop()
  }
}

await compare3x1(5000)
await compare3x1(1000)
await form30x1()

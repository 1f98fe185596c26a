/**
 * The raw MIGRATE ceiling on this machine: what a rebalance onto one new master could move per second if all it did
 * were MIGRATEs with the keys already known. Three senders fill one receiver at once, as `slots rebalance
 * --use-empty-masters` onto a fourth master does; each sender moves the keys of its quarter of slots, one MIGRATE
 * per slot (MIGRATE cannot carry keys of two slots), 32 MIGRATEs pipelined per sender; no SETSLOT, no
 * GETKEYSINSLOT, no cluster at all (plain redis-server processes, keys grouped by hash tag as a slot groups them).
 *
 *   node --import tsx bench/migrate-ceiling.ts [--keys 200000] [--value-bytes 100] [--appendonly yes|no] [--rounds 3]
 *
 * --keys is the size of the whole data set: a quarter of it moves, in 4096 slot-sized MIGRATEs of keys/16384 keys
 * each (12 at 200,000, 61 at 1,000,000). --appendonly yes is what the sandbox's pods run.
 */
import {loadavg} from 'node:os'
import {parseArgs} from 'node:util'

import {Redis} from 'ioredis'

import {startRedisNodes} from '../test/support/redis-nodes.js'

const {values} = parseArgs({options: {keys: {type: 'string', default: '200000'}, 'value-bytes': {type: 'string', default: '100'},
  appendonly: {type: 'string', default: 'yes'}, rounds: {type: 'string', default: '3'}, depth: {type: 'string', default: '32'}}})
const KEYS = Number(values.keys)
const SLOTS_MOVED = 4096
const PER_SLOT = Math.max(1, Math.round(KEYS / 16384))
const SENDERS = 3
const DEPTH = Number(values.depth)

const nodes = await startRedisNodes(SENDERS + 1, {cluster: false, extraConfig: [`appendonly ${values.appendonly}`]})
const clients = nodes.nodes.map((n) => new Redis({host: n.host, port: n.port, protocol: 2}))
const [target, ...senders] = [nodes.nodes[SENDERS], ...nodes.nodes.slice(0, SENDERS)]
const value = 'v'.repeat(Number(values['value-bytes']))
// Sender s owns slots s, s + 3, ...: 4096 slots in all.
const slotsOf = (s: number): number[] => Array.from({length: SLOTS_MOVED}, (_, i) => i).filter((i) => i % SENDERS === s)
const keysOf = (slot: number): string[] => Array.from({length: PER_SLOT}, (_, k) => `{${slot}}:${k}`)

async function fill(): Promise<void> {
  await Promise.all(clients.map((c) => c.flushall()))
  await Promise.all(senders.map(async (_, s) => {
    const pipeline = clients[s].pipeline()
    for (const slot of slotsOf(s)) for (const key of keysOf(slot)) pipeline.set(key, value)
    await pipeline.exec()
  }))
}

/** Every sender at once, DEPTH MIGRATEs in flight each; returns the seconds until the last one answered. */
async function moveAll(): Promise<number> {
  const started = performance.now()
  await Promise.all(senders.map(async (_, s) => {
    const slots = slotsOf(s)
    for (let i = 0; i < slots.length; i += DEPTH) {
      const pipeline = clients[s].pipeline()
      for (const slot of slots.slice(i, i + DEPTH)) pipeline.call('MIGRATE', target.host, target.port, '', 0, 10_000, 'KEYS', ...keysOf(slot))
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error
    }
  }))
  return (performance.now() - started) / 1000
}

try {
  const load = loadavg()[0]
  const seconds: number[] = []
  for (let round = 0; round < Number(values.rounds); round++) {
    await fill()
    seconds.push(await moveAll())
    const moved = await clients[SENDERS].dbsize()
    if (moved !== SLOTS_MOVED * PER_SLOT) throw new Error(`the receiver holds ${moved} keys, not ${SLOTS_MOVED * PER_SLOT}`)
  }
  const best = Math.min(...seconds)
  const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)]
  const moved = SLOTS_MOVED * PER_SLOT
  console.log(`raw MIGRATE ceiling: ${moved} keys (${SLOTS_MOVED} MIGRATEs of ${PER_SLOT} keys, ${values['value-bytes']} B values, appendonly ${values.appendonly}), ` +
    `${SENDERS} senders into 1, ${DEPTH} in flight each; load average ${load.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`)
  console.log(`| data set | keys moved | median | best | keys/s median | keys/s best |\n|---:|---:|---:|---:|---:|---:|`)
  console.log(`| ${KEYS} | ${moved} | ${median.toFixed(3)} s | ${best.toFixed(3)} s | ${Math.round(moved / median)} | ${Math.round(moved / best)} |`)
} finally {
  clients.forEach((c) => c.disconnect())
  await nodes.stop()
}

import {afterEach, describe, expect, it} from 'vitest'

import {RedisConnector} from '../../src/redis/connection.js'
import {executeMoves} from '../../src/redis/execute-moves.js'
import {keysPerSlot} from '../../src/redis/migrate-keys.js'
import {migrateSlots} from '../../src/redis/migrate-slots.js'
import {planDrain, planRebalance, type SlotMove} from '../../src/topology/rebalance.js'
import {countSlots, rangesToSlots, SLOT_COUNT} from '../../src/topology/slots.js'
import {addressesById, clusterClient, fillEverySlot, missingOrWrong, observedMasters, openSlots, redisCliCheck,
  startTestCluster, type TestCluster} from '../support/form-for-tests.js'

let cluster: TestCluster | undefined
let connector: RedisConnector | undefined

afterEach(async () => {
  await connector?.closeAll()
  await cluster?.stop()
  cluster = undefined
  connector = undefined
})

async function threeMastersAndAnEmptyOne(): Promise<TestCluster> {
  cluster = await startTestCluster({masters: 3, emptyMasters: 1})
  connector = new RedisConnector()
  return cluster
}

describe('rebalancing onto an empty master', () => {
  it('keeps every key with its value, evens out the slots and passes redis-cli --cluster check', async () => {
    const c = await threeMastersAndAnEmptyOne()
    const data = await fillEverySlot(c, 20_000)
    const moves = planRebalance(await observedMasters(c), {useEmptyMasters: true})

    const result = await executeMoves(connector!, moves, addressesById(c))

    expect(result.keysMoved).toBe(await c.clients[3].dbsize())
    expect(await missingOrWrong(c, data)).toEqual([])
    for (const m of await observedMasters(c)) expect(Math.abs(countSlots(m.slots) - SLOT_COUNT / 4)).toBeLessThanOrEqual(SLOT_COUNT / 4 / 100)
    expect(await openSlots(c)).toEqual([])
    const check = redisCliCheck(c)
    expect(check.ok, check.output).toBe(true)
  })

  it('reports the keys each move carried, in plan order: what its giver held in those slots', async () => {
    const c = await threeMastersAndAnEmptyOne()
    await fillEverySlot(c, 5_000)
    const moves = planRebalance(await observedMasters(c), {useEmptyMasters: true})
    const held = await Promise.all(moves.map(async (m) => {
      const giver = c.masters.findIndex((master) => master.id === m.from)
      const counts = await keysPerSlot(c.clients[giver], c.masters[giver].address, rangesToSlots(m.slots))
      return counts.reduce((n, k) => n + k, 0)
    }))

    const result = await executeMoves(connector!, moves, addressesById(c))

    expect(result.keysPerMove).toEqual(held)
    expect(held.reduce((n, k) => n + k, 0)).toBe(result.keysMoved)
  })

  it('reports progress: slots done of total, keys moved, keys per second', async () => {
    const c = await threeMastersAndAnEmptyOne()
    await fillEverySlot(c, 5_000)
    const moves = planRebalance(await observedMasters(c), {useEmptyMasters: true})
    const seen: {slotsDone: number; slotsTotal: number; keysMoved: number; keysPerSecond: number}[] = []

    await executeMoves(connector!, moves, addressesById(c), {onProgress: (p) => seen.push(p)})

    const last = seen.at(-1)!
    expect(last.slotsDone).toBe(last.slotsTotal)
    expect(last.slotsTotal).toBe(moves.reduce((n, m) => n + countSlots(m.slots), 0))
    expect(last.keysMoved).toBeGreaterThan(0)
    expect(last.keysPerSecond).toBeGreaterThan(0)
    expect(seen.map((p) => p.keysMoved)).toEqual([...seen.map((p) => p.keysMoved)].sort((a, b) => a - b))
  })
})

describe('draining a master', () => {
  it('empties it into the others, which end even, every key kept', async () => {
    const c = cluster = await startTestCluster({masters: 4})
    connector = new RedisConnector()
    const data = await fillEverySlot(c, 10_000)
    const removed = c.masters[3].id

    await executeMoves(connector, planDrain(await observedMasters(c), [removed]), addressesById(c))

    const after = await observedMasters(c)
    expect(countSlots(after.find((m) => m.id === removed)!.slots)).toBe(0)
    expect(await c.clients[3].dbsize()).toBe(0)
    for (const m of after.filter((m) => m.id !== removed)) expect(Math.abs(countSlots(m.slots) - SLOT_COUNT / 3)).toBeLessThan(1)
    expect(await missingOrWrong(c, data)).toEqual([])
  })
})

describe('a key already on the target (left by an interrupted MIGRATE)', () => {
  it('is replaced by the source\'s copy, which clients kept writing to', async () => {
    const c = await threeMastersAndAnEmptyOne()
    const data = await fillEverySlot(c, 2_000)
    const [source, , , target] = c.masters
    const [sourceClient, , , targetClient] = c.clients
    const key = data.key(7)
    // What an interrupted run leaves: the slot open on both sides and the key copied without being deleted.
    await targetClient.call('CLUSTER', 'SETSLOT', 7, 'IMPORTING', source.id)
    await sourceClient.call('CLUSTER', 'SETSLOT', 7, 'MIGRATING', target.id)
    await sourceClient.call('MIGRATE', target.address.host, target.address.port, key, 0, 5000, 'COPY')
    await sourceClient.set(key, 'written after the copy')

    await migrateSlots(connector!, source, target, [7, 8, 9], {otherMasters: c.masters.slice(1, 3)})

    const client = clusterClient(c)
    try {
      expect(await client.get(key)).toBe('written after the copy')
    } finally {
      client.disconnect()
    }
    expect(await sourceClient.call('CLUSTER', 'COUNTKEYSINSLOT', 7)).toBe(0)
    expect(await openSlots(c)).toEqual([])
  })
})

describe('clients using the cluster during a rebalance', () => {
  it('read back every write the cluster acknowledged', async () => {
    const c = await threeMastersAndAnEmptyOne()
    const data = await fillEverySlot(c, 20_000)
    const moves = planRebalance(await observedMasters(c), {useEmptyMasters: true})
    const inMovedSlots = movedKeyIndexes(data.count, moves)
    const client = clusterClient(c)
    const acknowledged = new Map<string, string>()
    const wrongReads: string[] = []
    let moving = true
    // A bounded writer on the slots being moved: overwrites keys still on the source, creates new keys (which
    // ASK sends to the importing node) and reads its own writes back.
    const writer = (async () => {
      for (let round = 0; moving && round < 5_000; round++) {
        await Promise.all(Array.from({length: 10}, async (_, j) => {
          const i = inMovedSlots[((round * 10 + j) * 7919) % inMovedSlots.length]
          const key = data.key(i)
          const fresh = `fresh:${round}:${j}:${key.slice(0, key.indexOf('}') + 1)}`
          const value = `round ${round}`
          await client.set(key, value)
          acknowledged.set(key, value)
          await client.set(fresh, value)
          acknowledged.set(fresh, value)
          if ((await client.get(key)) !== value) wrongReads.push(key)
        }))
      }
    })()

    try {
      // At redis-cli's pace (10 keys per MIGRATE), so that the writer gets well into the moves.
      await executeMoves(connector!, moves, addressesById(c), {slotsPerBatch: 64, keysPerMigrate: 10})
    } finally {
      moving = false
      await writer
    }

    expect(acknowledged.size).toBeGreaterThan(500)
    const lost = []
    for (const [key, value] of acknowledged) if ((await client.get(key)) !== value) lost.push(key)
    client.disconnect()
    expect(lost).toEqual([])
    expect(wrongReads).toEqual([])
  })
})

function movedKeyIndexes(count: number, moves: readonly SlotMove[]): number[] {
  const moved = new Set(moves.flatMap((m) => rangesToSlots(m.slots)))
  return Array.from({length: count}, (_, i) => i).filter((i) => moved.has(i % SLOT_COUNT))
}

describe('moving keys on the nodes themselves (Lua scripts)', () => {
  const PASSWORD = 'migrate-test-secret'

  it('on a cluster with a password, moves every key while the password shows in no command MONITOR or SLOWLOG sees', async () => {
    const c = cluster = await startTestCluster({masters: 3, emptyMasters: 1, password: PASSWORD})
    connector = new RedisConnector({credentials: {password: PASSWORD}})
    const data = await fillEverySlot(c, 5_000)
    await Promise.all(c.clients.map((node) => node.config('SET', 'slowlog-log-slower-than', '0')))
    const monitors = await Promise.all(c.clients.slice(0, 3).map((node) => node.monitor()))
    const seen: {args: string[]; source: string}[] = []
    for (const m of monitors) m.on('monitor', (_time: string, args: string[], source: string) => seen.push({args, source}))
    try {
      await executeMoves(connector, planRebalance(await observedMasters(c), {useEmptyMasters: true}), addressesById(c))
    } finally {
      monitors.forEach((m) => m.disconnect())
    }

    expect(await missingOrWrong(c, data)).toEqual([])
    const slowlogs = await Promise.all(c.clients.map(async (node) => JSON.stringify(await node.call('SLOWLOG', 'GET', 128))))
    expect(slowlogs.join('\n')).toContain('EVALSHA')
    expect(slowlogs.filter((log) => log.includes(PASSWORD))).toEqual([])
    expect(seen.filter((e) => e.args.join(' ').includes(PASSWORD))).toEqual([])
    // The CLI moves the first slot of each source with AUTH; the scripts' MIGRATEs then ride on that connection.
    const migrates = seen.filter((e) => e.args[0]?.toUpperCase() === 'MIGRATE')
    const fromScripts = migrates.filter((e) => e.source === 'lua').length
    expect(fromScripts).toBeGreaterThan(10 * (migrates.length - fromScripts))
  })

  it('on nodes that refuse scripts, moves every key one command at a time', async () => {
    const c = await threeMastersAndAnEmptyOne()
    const data = await fillEverySlot(c, 5_000)
    await Promise.all(c.clients.map((node) => node.call('ACL', 'SETUSER', 'default', '-@scripting')))

    const result = await executeMoves(connector!, planRebalance(await observedMasters(c), {useEmptyMasters: true}), addressesById(c))

    expect(result.keysMoved).toBe(await c.clients[3].dbsize())
    expect(await missingOrWrong(c, data)).toEqual([])
    expect(await openSlots(c)).toEqual([])
    const stats = await Promise.all(c.clients.map(async (node) => String(await node.info('commandstats'))))
    expect(stats.join('\n')).toMatch(/cmdstat_migrate:calls=[1-9]/)
    expect(stats.join('\n')).toMatch(/cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=[\d.]+,rejected_calls=[1-9]/)
  })
})

describe('running a plan', () => {
  /** slotsDone when the first move completes: equal to that move's size unless another move progressed meanwhile. */
  async function slotsDoneAtFirstFinish(c: TestCluster, moves: readonly SlotMove[], options: {movesAtOnce?: number} = {}): Promise<number> {
    let atFirst = -1
    await executeMoves(connector!, moves, addressesById(c), {...options, slotsPerBatch: 64, onProgress: (p) => {
      if (p.movesDone === 1 && atFirst < 0) atFirst = p.slotsDone
    }})
    return atFirst
  }

  it('runs moves between disjoint pairs of masters at the same time', async () => {
    const c = cluster = await startTestCluster({masters: 2, emptyMasters: 2})
    connector = new RedisConnector()
    const data = await fillEverySlot(c, 5_000)
    const moves = planRebalance(await observedMasters(c), {useEmptyMasters: true})
    expect(moves).toHaveLength(2)
    expect(new Set(moves.flatMap((m) => [m.from, m.to])).size).toBe(4)

    const atFirst = await slotsDoneAtFirstFinish(c, moves)

    expect(atFirst).toBeGreaterThan(Math.max(...moves.map((m) => countSlots(m.slots))))
    expect(await missingOrWrong(c, data)).toEqual([])
  })

  it('fills an empty master from every giving master at the same time', async () => {
    const c = await threeMastersAndAnEmptyOne()
    const data = await fillEverySlot(c, 5_000)
    const moves = planRebalance(await observedMasters(c), {useEmptyMasters: true})
    expect(new Set(moves.map((m) => m.to)).size).toBe(1)

    const atFirst = await slotsDoneAtFirstFinish(c, moves)

    expect(atFirst).toBeGreaterThan(Math.max(...moves.map((m) => countSlots(m.slots))))
    expect(await missingOrWrong(c, data)).toEqual([])
  })

  it('runs no more moves at once than it is allowed, even into one empty master', async () => {
    const c = await threeMastersAndAnEmptyOne()
    const data = await fillEverySlot(c, 5_000)
    const moves = planRebalance(await observedMasters(c), {useEmptyMasters: true})
    expect(moves).toHaveLength(3)

    const atFirst = await slotsDoneAtFirstFinish(c, moves, {movesAtOnce: 1})

    expect(moves.map((m) => countSlots(m.slots))).toContain(atFirst)
    expect(await missingOrWrong(c, data)).toEqual([])
  })

  it('runs moves out of one master one after the other', async () => {
    const c = cluster = await startTestCluster({masters: 4})
    connector = new RedisConnector()
    await fillEverySlot(c, 5_000)
    const moves = planDrain(await observedMasters(c), [c.masters[0].id])
    expect(moves.length).toBeGreaterThan(1)

    const atFirst = await slotsDoneAtFirstFinish(c, moves)

    expect(moves.map((m) => countSlots(m.slots))).toContain(atFirst)
  })

  it('never has a master send while it receives, so no two masters wait on each other', async () => {
    const c = cluster = await startTestCluster({masters: 3})
    connector = new RedisConnector()
    const data = await fillEverySlot(c, 5_000)
    const [a, b, d] = await observedMasters(c)
    const first = (m: typeof a) => m.slots[0].start
    const moves: SlotMove[] = [
      {from: a.id, to: b.id, slots: [{start: first(a), end: first(a) + 999}]},
      {from: b.id, to: d.id, slots: [{start: first(b), end: first(b) + 499}]},
    ]

    const atFirst = await slotsDoneAtFirstFinish(c, moves)

    expect(atFirst).toBe(1000)
    expect(await missingOrWrong(c, data)).toEqual([])
  })
})

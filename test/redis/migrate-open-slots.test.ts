import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {RedisConnector} from '../../src/redis/connection.js'
import {finishOpenSlots} from '../../src/redis/open-slots.js'
import {SLOT_COUNT} from '../../src/topology/slots.js'
import {hashTagOf, keysInSlot, missingOrWrong, openSlots, slotOwner, type TestCluster, type TestData, type ThreeMasters, threeMastersWithKeys,
  writeAsked} from '../support/form-for-tests.js'

// One cluster for the file: each test opens its own slot (all in A's range, 0-5460) and expects it closed.
let c: TestCluster
let data: TestData
let connector: RedisConnector
let a: Redis
let b: Redis
let cNode: Redis
let ids: ThreeMasters['ids']

beforeAll(async () => {
  ;({cluster: c, data, clients: [a, b, cNode], ids} = await threeMastersWithKeys(SLOT_COUNT * 3))
  connector = new RedisConnector()
})

afterAll(async () => {
  await connector?.closeAll()
  await c?.stop()
})

const keysOf = (slot: number): number[] => [0, 1, 2].map((k) => slot + k * SLOT_COUNT)

const tagOf = (slot: number): string => hashTagOf(data, slot)
const ownerOf = (slot: number): Promise<string | undefined> => slotOwner(c, slot)

describe('finishOpenSlots', () => {
  it('moves a slot migrating on its owner and importing on another to the importing node, keys included', async () => {
    await b.call('CLUSTER', 'SETSLOT', 100, 'IMPORTING', ids.a)
    await a.call('CLUSTER', 'SETSLOT', 100, 'MIGRATING', ids.b)

    expect(await finishOpenSlots(connector, c.masters)).toEqual([100])

    expect(await openSlots(c)).toEqual([])
    expect(await ownerOf(100)).toBe(ids.b)
    expect(await keysInSlot(b, 100)).toBe(3)
    expect(await missingOrWrong(c, data, keysOf(100))).toEqual([])
  })

  it('moves keys from a node importing a slot back to its owner and closes it', async () => {
    await b.call('CLUSTER', 'SETSLOT', 200, 'IMPORTING', ids.a)
    await writeAsked(b, `${tagOf(200)}:asked`)

    expect(await finishOpenSlots(connector, c.masters)).toEqual([200])

    expect(await openSlots(c)).toEqual([])
    expect(await ownerOf(200)).toBe(ids.a)
    expect(await keysInSlot(a, 200)).toBe(4)
    expect(await keysInSlot(b, 200)).toBe(0)
    expect(await missingOrWrong(c, data, keysOf(200))).toEqual([])
  })

  it('closes a slot left migrating on its owner when no node imports it', async () => {
    await a.call('CLUSTER', 'SETSLOT', 300, 'MIGRATING', ids.b)

    expect(await finishOpenSlots(connector, c.masters)).toEqual([300])

    expect(await openSlots(c)).toEqual([])
    expect(await ownerOf(300)).toBe(ids.a)
    expect(await missingOrWrong(c, data, keysOf(300))).toEqual([])
  })

  it('gathers keys of a slot found on several nodes onto the node holding most of them', async () => {
    const tag = tagOf(400)
    await b.call('CLUSTER', 'SETSLOT', 400, 'IMPORTING', ids.a)
    await writeAsked(b, `${tag}:on-b`)
    // A stray key on C with the slot closed again: C holds keys of a slot it neither owns nor imports.
    await cNode.call('CLUSTER', 'SETSLOT', 400, 'IMPORTING', ids.a)
    await writeAsked(cNode, `${tag}:on-c`)
    await cNode.call('CLUSTER', 'SETSLOT', 400, 'STABLE')

    expect(await finishOpenSlots(connector, c.masters)).toEqual([400])

    expect(await openSlots(c)).toEqual([])
    expect(await ownerOf(400)).toBe(ids.a)
    expect([await keysInSlot(a, 400), await keysInSlot(b, 400), await keysInSlot(cNode, 400)]).toEqual([5, 0, 0])
    expect(await missingOrWrong(c, data, keysOf(400))).toEqual([])
  })

  it('settles a half-moved slot on the node holding most of its keys, like redis-cli --cluster fix', async () => {
    await b.call('CLUSTER', 'SETSLOT', 500, 'IMPORTING', ids.a)
    await a.call('CLUSTER', 'SETSLOT', 500, 'MIGRATING', ids.b)
    await a.call('MIGRATE', c.masters[1].address.host, 6379, '', 0, 5000, 'KEYS', data.key(500), data.key(500 + SLOT_COUNT))

    expect(await finishOpenSlots(connector, c.masters)).toEqual([500])

    expect(await openSlots(c)).toEqual([])
    expect(await ownerOf(500)).toBe(ids.b)
    expect([await keysInSlot(a, 500), await keysInSlot(b, 500)]).toEqual([0, 3])
    expect(await missingOrWrong(c, data, keysOf(500))).toEqual([])
  })
})

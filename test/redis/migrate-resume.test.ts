import {afterEach, describe, expect, it} from 'vitest'

import {InterruptedError} from '../../src/errors.js'
import {RedisConnector} from '../../src/redis/connection.js'
import {executeMoves} from '../../src/redis/execute-moves.js'
import {finishOpenSlots} from '../../src/redis/open-slots.js'
import {planRebalance, type SlotMove} from '../../src/topology/rebalance.js'
import {countSlots, SLOT_COUNT} from '../../src/topology/slots.js'
import {addressesById, fillEverySlot, missingOrWrong, observedMasters, openSlots, redisCliCheck, startTestCluster,
  type TestCluster, type TestData} from '../support/form-for-tests.js'

let cluster: TestCluster | undefined
let connector: RedisConnector | undefined

afterEach(async () => {
  await connector?.closeAll()
  await cluster?.stop()
  cluster = undefined
  connector = undefined
})

/** A rebalance onto an empty master, aborted once a few thousand keys have moved. */
async function interruptedRebalance(): Promise<{c: TestCluster; data: TestData; moves: SlotMove[]; error: unknown}> {
  const c = cluster = await startTestCluster({masters: 3, emptyMasters: 1})
  connector = new RedisConnector()
  const data = await fillEverySlot(c, 20_000)
  const moves = planRebalance(await observedMasters(c), {useEmptyMasters: true})
  const abort = new AbortController()
  const error = await executeMoves(connector, moves, addressesById(c), {
    signal: abort.signal,
    onProgress: (p) => { if (p.keysMoved >= 1_500) abort.abort() },
  }).then(() => undefined, (e: unknown) => e)
  return {c, data, moves, error}
}

async function expectEvenAndWhole(c: TestCluster, data: TestData): Promise<void> {
  expect(await openSlots(c)).toEqual([])
  expect(await missingOrWrong(c, data)).toEqual([])
  for (const m of await observedMasters(c)) expect(Math.abs(countSlots(m.slots) - SLOT_COUNT / 4)).toBeLessThanOrEqual(SLOT_COUNT / 4 / 100)
  const check = redisCliCheck(c)
  expect(check.ok, check.output).toBe(true)
}

describe('an interrupted rebalance', () => {
  it('stops after the batches in flight with an "interrupted" error saying what moved, leaving no slot open and no key lost', async () => {
    const {c, data, error} = await interruptedRebalance()

    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as InterruptedError).kind).toBe('interrupted')
    expect((error as InterruptedError).message).toMatch(/^Stopped by SIGINT after moving \d+ of \d+ slots \(\d+ keys\); the batches under way landed/)
    expect(await openSlots(c)).toEqual([])
    expect(await missingOrWrong(c, data)).toEqual([])
  }, 180_000)

  it('finishes when the same moves run again', async () => {
    const {c, data, moves} = await interruptedRebalance()

    await executeMoves(connector!, moves, addressesById(c))

    await expectEvenAndWhole(c, data)
  }, 180_000)

  it('leaves nothing for finishOpenSlots, and a fresh plan moves the rest', async () => {
    const {c, data} = await interruptedRebalance()

    expect(await finishOpenSlots(connector!, c.masters)).toEqual([])
    await executeMoves(connector!, planRebalance(await observedMasters(c), {useEmptyMasters: true}), addressesById(c))

    await expectEvenAndWhole(c, data)
  }, 180_000)
})

import {describe, expect, it} from 'vitest'

import {InterruptedError, TimeoutError} from '../../src/errors.js'
import {MAX_INTERVAL_MS, MIN_INTERVAL_MS, waitUntil} from '../../src/util/wait.js'

const notYet = {done: false, missing: '2 replicas still syncing'} as const

describe('waitUntil', () => {
  it('returns the value of the first probe that is done', async () => {
    let probes = 0
    const value = await waitUntil('the answer', async () => (++probes < 3 ? notYet : {done: true, value: 42}), {timeoutMs: 5000})
    expect(value).toBe(42)
    expect(probes).toBe(3)
  })

  it('times out with what it waited for and what was still missing', async () => {
    const error = await waitUntil('every replica to be in sync', async () => notYet, {timeoutMs: 100}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as TimeoutError).message).toMatch(/waiting for every replica to be in sync: 2 replicas still syncing/)
    expect((error as TimeoutError).exitCode).toBe(5)
  })

  it('never polls faster than its floor, even when asked for no pause', async () => {
    let probes = 0
    await waitUntil('nothing', async () => { probes++; return notYet }, {timeoutMs: 300, intervalMs: 0}).catch(() => undefined)
    expect(MIN_INTERVAL_MS).toBeGreaterThan(0)
    expect(probes).toBeLessThanOrEqual(300 / MIN_INTERVAL_MS + 1)
  })

  it('polls less often as a wait goes on', async () => {
    const at: number[] = []
    await waitUntil('nothing', async () => { at.push(Date.now()); return notYet }, {timeoutMs: 3000, intervalMs: 20}).catch(() => undefined)
    const gaps = at.slice(1).map((t, i) => t - at[i])
    expect(gaps.at(-1)).toBeGreaterThanOrEqual(MAX_INTERVAL_MS * 0.9)
    expect(at.length).toBeLessThan(3000 / 20 / 3)
  })

  it('ends at its deadline even when a probe never answers', async () => {
    const started = Date.now()
    const error = await waitUntil('a silent node', () => new Promise<never>(() => undefined), {timeoutMs: 200}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('ends at once when its signal fires, saying what it waited for', async () => {
    const stop = new AbortController()
    setTimeout(() => stop.abort(new InterruptedError('SIGTERM', 'Stopped by SIGTERM.')), 50)
    const started = Date.now()
    const error = await waitUntil('the pods to be Ready', async () => notYet, {timeoutMs: 60_000, intervalMs: 10_000, signal: stop.signal})
      .catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as InterruptedError).message).toBe('Stopped by SIGTERM while waiting for the pods to be Ready (2 replicas still syncing).')
    expect((error as InterruptedError).exitCode).toBe(143)
  })

  it('does not start when its signal has already fired', async () => {
    const stop = new AbortController()
    stop.abort(new InterruptedError('SIGINT', 'Stopped by SIGINT.'))
    let probes = 0
    const error = await waitUntil('anything', async () => { probes++; return notYet }, {timeoutMs: 1000, signal: stop.signal}).catch((e: unknown) => e)
    expect(probes).toBe(0)
    expect((error as InterruptedError).exitCode).toBe(130)
  })
})

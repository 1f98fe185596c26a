import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {UsageError} from '../../src/errors.js'
import {IpAllocator} from '../../src/sandbox/kubelet/ip-allocator.js'
import {addressAt, nodeAddresses, parseIpRange, podAddresses} from '../../src/sandbox/kubelet/ip-range.js'

describe('pod IP ranges', () => {
  it('accepts a loopback range outside the reserved ends', () => {
    expect(parseIpRange('127.10.0.0/16')).toMatchObject({size: 65536})
  })

  it.each(['127.0.0.0/16', '127.0.0.0/8', '127.255.0.0/16', '10.0.0.0/16', '127.10.0.0', '127.10.0.1/16'])('rejects %s', (cidr) => {
    expect(() => parseIpRange(cidr)).toThrow(UsageError)
  })

  it('hands out addresses that skip .0 and .255', () => {
    const range = parseIpRange('127.10.0.0/16')
    expect(addressAt(range, 0)).toBe('127.10.0.1')
    expect(addressAt(range, 253)).toBe('127.10.0.254')
    expect(addressAt(range, 254)).toBe('127.10.1.1')
  })

  it('says when the range is used up', () => {
    const range = parseIpRange('127.10.0.0/30')
    expect(addressAt(range, 0)).toBe('127.10.0.1')
    expect(addressAt(range, 2)).toBeUndefined()
  })
})

describe('node addresses', () => {
  it('come from the last /24 of the range, one per node in order', () => {
    expect(nodeAddresses(parseIpRange('127.10.0.0/16'), 3)).toEqual(['127.10.255.1', '127.10.255.2', '127.10.255.3'])
  })

  it('are never handed out as pod IPs', () => {
    const pods = podAddresses(parseIpRange('127.10.0.0/23'))
    expect(addressAt(pods, 253)).toBe('127.10.0.254')
    expect(addressAt(pods, 254)).toBeUndefined()
  })

  it('leave a range narrower than /23 to pods, and refuse to come from it', () => {
    const range = parseIpRange('127.10.0.0/24')
    expect(podAddresses(range)).toEqual(range)
    expect(() => nodeAddresses(range, 1)).toThrow(/leaves no room for 1 node address/)
  })
})

describe('the pod IP allocator', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubelet-ipam-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })
  const range = parseIpRange('127.10.0.0/16')

  it('gives each pod incarnation a new address', async () => {
    const allocator = await IpAllocator.open(join(dir, 'ips.json'), range)
    expect(await allocator.acquire('uid-a')).toBe('127.10.0.1')
    expect(await allocator.acquire('uid-b')).toBe('127.10.0.2')
  })

  it('keeps the address of an incarnation it already leased', async () => {
    const allocator = await IpAllocator.open(join(dir, 'ips.json'), range)
    const first = await allocator.acquire('uid-a')
    expect(await allocator.acquire('uid-a')).toBe(first)
  })

  it('never reuses a released address, even after a restart', async () => {
    const file = join(dir, 'ips.json')
    const before = await IpAllocator.open(file, range)
    const old = await before.acquire('uid-a')
    await before.release(['uid-a'])
    const after = await IpAllocator.open(file, range)
    const fresh = await after.acquire('uid-b')
    expect(fresh).not.toBe(old)
    expect(after.leasedUids()).toEqual(['uid-b'])
  })

  it('remembers live leases across a restart', async () => {
    const file = join(dir, 'ips.json')
    const ip = await (await IpAllocator.open(file, range)).acquire('uid-a')
    expect(await (await IpAllocator.open(file, range)).acquire('uid-a')).toBe(ip)
  })

  it('hands out distinct addresses to concurrent requests', async () => {
    const allocator = await IpAllocator.open(join(dir, 'ips.json'), range)
    const ips = await Promise.all(['a', 'b', 'c', 'd'].map((uid) => allocator.acquire(uid)))
    expect(new Set(ips).size).toBe(4)
  })
})

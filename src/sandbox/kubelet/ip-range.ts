import {UsageError} from '../../errors.js'

/** A block of loopback addresses that pod IPs are taken from, e.g. 127.64.0.0/12. */
export interface IpRange {
  cidr: string
  first: number
  size: number
}

export const DEFAULT_POD_IP_RANGE = '127.64.0.0/12'

const toNumber = (octets: number[]): number => ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3]

export const formatIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')

/**
 * Parses and checks a pod IP range. It must lie inside 127.0.0.0/8 and stay clear of 127.0.0.0/16
 * (127.0.0.1 and friends are the host's own) and 127.255.0.0/16 (the broadcast end).
 */
export function parseIpRange(cidr: string): IpRange {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr)
  const octets = match ? match.slice(1, 5).map(Number) : []
  const bits = match ? Number(match[5]) : 0
  if (!match || octets.some((o) => o > 255) || bits < 9 || bits > 30) {
    throw new UsageError(`Pod IP range "${cidr}" is not an IPv4 CIDR between /9 and /30.`, ['Use a range such as 127.64.0.0/12.'])
  }
  const size = 2 ** (32 - bits)
  const first = toNumber(octets)
  if (first % size !== 0) throw new UsageError(`Pod IP range "${cidr}" does not start on a /${bits} boundary.`)
  const last = first + size - 1
  const reserved = [toNumber([127, 0, 0, 0]), toNumber([127, 255, 0, 0])]
  const overlapsReserved = reserved.some((start) => first <= start + 65535 && last >= start)
  if (octets[0] !== 127 || overlapsReserved) {
    throw new UsageError(`Pod IP range "${cidr}" must lie inside 127.0.0.0/8, outside 127.0.0.0/16 and 127.255.0.0/16.`, [
      'Use a range such as 127.64.0.0/12.',
    ])
  }
  return {cidr, first, size}
}

/**
 * The address at a position in the range, skipping the .0 and .255 of every /24 so that no pod gets an
 * address that looks like a network or broadcast address. Undefined once the range is exhausted.
 */
export function addressAt(range: IpRange, index: number): string | undefined {
  const perBlock = 254
  const offset = Math.floor(index / perBlock) * 256 + (index % perBlock) + 1
  return offset < range.size - 1 ? formatIp(range.first + offset) : undefined
}

const BLOCK = 256

/** The pod IPs of a range: all of it, but for the last /24 of a /23 or wider range, which holds node addresses. */
export function podAddresses(range: IpRange): IpRange {
  return range.size >= 2 * BLOCK ? {...range, size: range.size - BLOCK} : range
}

/**
 * The InternalIPs of a kubelet's nodes: .1, .2, ... of the range's last /24, so that sandboxes with distinct
 * ranges never share a node address.
 */
export function nodeAddresses(range: IpRange, count: number): string[] {
  if (range.size < 2 * BLOCK || count > 254) {
    throw new UsageError(`The pod IP range ${range.cidr} leaves no room for ${count} node address(es): they come from the last /24 of a /23 or wider range.`, [
      'Use a wider range, such as a /16.',
    ])
  }
  return Array.from({length: count}, (_, i) => formatIp(range.first + range.size - BLOCK + i + 1))
}

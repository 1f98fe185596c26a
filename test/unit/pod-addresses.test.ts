import {describe, expect, it} from 'vitest'

import {PodAddresses} from '../../src/kube/pod-addresses.js'
import type {RedisPod} from '../../src/kube/pods.js'

const HEADLESS = 'cache-headless.shop.svc'

const pod = (name: string, ip?: string): RedisPod => ({
  name, uid: `${name}-${ip}`, ip, dnsName: `${name}.${HEADLESS}`, port: 6379, phase: ip ? 'Running' : 'Pending', ready: Boolean(ip),
  terminating: false, annotations: {}, unscheduled: false, claims: [],
})

describe('where a TLS cluster client finds each pod by the DNS name its node announces', () => {
  it('maps each pod\'s DNS name to its IP, and its IP to its DNS name', () => {
    const addresses = new PodAddresses([pod('cache-0', '10.0.0.5'), pod('cache-1', '10.0.0.6')])
    expect(addresses.ipOf(`cache-1.${HEADLESS}`)).toBe('10.0.0.6')
    expect(addresses.nameAt('10.0.0.5')).toBe(`cache-0.${HEADLESS}`)
    expect(addresses.ipOf(`cache-2.${HEADLESS}`)).toBeUndefined()
  })

  it('follows a pod recreated at a new IP: the name maps to the new IP, the old IP names no pod, and the listing says it taught something', () => {
    const addresses = new PodAddresses([pod('cache-0', '10.0.0.5'), pod('cache-1', '10.0.0.6')])
    expect(addresses.learn([pod('cache-0', '10.0.0.5'), pod('cache-1', '10.0.0.9')])).toBe(true)
    expect(addresses.ipOf(`cache-1.${HEADLESS}`)).toBe('10.0.0.9')
    expect(addresses.nameAt('10.0.0.9')).toBe(`cache-1.${HEADLESS}`)
    expect(addresses.nameAt('10.0.0.6')).toBeUndefined()
  })

  it('keeps the last IP of a pod listed without one (deleted, not running again yet), and a listing with nothing new says so', () => {
    const addresses = new PodAddresses([pod('cache-0', '10.0.0.5')])
    expect(addresses.learn([pod('cache-0')])).toBe(false)
    expect(addresses.ipOf(`cache-0.${HEADLESS}`)).toBe('10.0.0.5')
    expect(addresses.learn([pod('cache-0', '10.0.0.5')])).toBe(false)
  })

  it('learns a pod it did not know, as one added by a scale out', () => {
    const addresses = new PodAddresses([pod('cache-0', '10.0.0.5')])
    expect(addresses.learn([pod('cache-0', '10.0.0.5'), pod('cache-1', '10.0.0.7')])).toBe(true)
    expect(addresses.ipOf(`cache-1.${HEADLESS}`)).toBe('10.0.0.7')
  })
})

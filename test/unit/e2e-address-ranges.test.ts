import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

// vitest runs e2e files side by side: two sandboxes on one 127.N.0.0/16 would share pod and kubelet addresses.
describe('the e2e files', () => {
  it('each start their sandbox on a pod IP range no other file uses', () => {
    const dir = join(import.meta.dirname, '..', 'e2e')
    const owners = new Map<number, string[]>()
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8')
      const octets = new Set([...text.matchAll(/podIpOctet: *(\d+)|podIpRange\((\d+)\)/g)].map((m) => Number(m[1] ?? m[2])))
      for (const octet of octets) owners.set(octet, [...(owners.get(octet) ?? []), file])
    }
    expect([...owners.values()].length).toBeGreaterThan(10)
    expect([...owners.entries()].filter(([, files]) => files.length > 1)).toEqual([])
  })

  it('stay off the kubelet and port-forward tests\' 127.61-62 and the 127.64-199 that sandboxes take by default', () => {
    const dir = join(import.meta.dirname, '..', 'e2e')
    const taken = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).flatMap((file) =>
      [...readFileSync(join(dir, file), 'utf8').matchAll(/podIpOctet: *(\d+)|podIpRange\((\d+)\)/g)].map((m) => ({file, octet: Number(m[1] ?? m[2])})))
    expect(taken.filter(({octet}) => octet === 61 || octet === 62 || (octet >= 64 && octet <= 199))).toEqual([])
  })
})

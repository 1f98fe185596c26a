import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

/** Each e2e file with the pod IP octets (127.N.0.0/16) its sandboxes start on. */
function octetsByFile(): Array<{file: string; octet: number}> {
  const dir = join(import.meta.dirname, '..', 'e2e')
  return readdirSync(dir).filter((f) => f.endsWith('.test.ts')).flatMap((file) => {
    const found = [...readFileSync(join(dir, file), 'utf8').matchAll(/podIpOctet: *(\d+)|podIpRange\((\d+)\)/g)].map((m) => Number(m[1] ?? m[2]))
    return [...new Set(found)].map((octet) => ({file, octet}))
  })
}

// vitest runs e2e files side by side: two sandboxes on one 127.N.0.0/16 would share pod and kubelet addresses.
describe('the e2e files', () => {
  it('each start their sandbox on a pod IP range no other file uses', () => {
    const owners = new Map<number, string[]>()
    for (const {file, octet} of octetsByFile()) owners.set(octet, [...(owners.get(octet) ?? []), file])
    expect([...owners.values()].length).toBeGreaterThan(10)
    expect([...owners.entries()].filter(([, files]) => files.length > 1)).toEqual([])
  })

  it('stay off the kubelet and port-forward tests\' 127.61-62 and the 127.64-199 that sandboxes take by default', () => {
    expect(octetsByFile().filter(({octet}) => octet === 61 || octet === 62 || (octet >= 64 && octet <= 199))).toEqual([])
  })
})

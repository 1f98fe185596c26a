import {once} from 'node:events'
import {type AddressInfo, createServer} from 'node:net'

import {afterEach, describe, expect, it} from 'vitest'

import {tcpOpen} from '../../src/redis/probe.js'

const servers: ReturnType<typeof createServer>[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

async function listening(): Promise<number> {
  const server = createServer((socket) => socket.destroy())
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

describe('the TCP probe behind --connect auto', () => {
  it('calls a port open that accepted while the process was starved of CPU past the probe\'s bound', async () => {
    const port = await listening()
    const probe = tcpOpen('127.0.0.1', port, 20)
    // The event loop is held well past the bound: the connection completes meanwhile, and so does the timer.
    const until = Date.now() + 200
    while (Date.now() < until) { /* a busy machine */ }
    expect(await probe).toBe(true)
  })

  it('calls a port closed when nothing listens there', async () => {
    const port = await listening()
    await new Promise((resolve) => servers.pop()!.close(resolve))
    expect(await tcpOpen('127.0.0.1', port, 500)).toBe(false)
  })
})

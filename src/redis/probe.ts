import {connect} from 'node:net'

/**
 * One PING over a fresh connection. A server that answers PONG, or refuses for lack of a password
 * (NOAUTH, WRONGPASS), is up; LOADING and anything else is not ready yet.
 */
export function pingServer(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return talk(host, port, timeoutMs, (reply) => /^(\+PONG|-NOAUTH|-WRONGPASS)/.test(reply))
}

/** The port accepts a connection (a tcpSocket probe; also how `--connect auto` tells whether pod IPs are reachable). */
export function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return talk(host, port, timeoutMs)
}

function talk(host: string, port: number, timeoutMs: number, judge?: (reply: string) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host, port})
    let reply = ''
    const finish = (ok: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    // Timers run before the poll phase in which a connection that completed meanwhile is seen: a process starved
    // of CPU (a loaded CI runner) would call an open port closed. setImmediate lets that poll phase come first.
    const timer = setTimeout(() => setImmediate(() => finish(false)), timeoutMs)
    socket.on('error', () => finish(false))
    socket.once('connect', () => {
      if (!judge) return finish(true)
      socket.write('PING\r\n')
    })
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (judge && reply.includes('\r\n')) finish(judge(reply))
    })
    socket.once('close', () => finish(false))
  })
}

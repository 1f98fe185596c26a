import {connect} from 'node:net'

/**
 * One PING over a fresh connection. A server that answers PONG, or refuses for lack of a password
 * (NOAUTH, WRONGPASS), is up; LOADING and anything else is not ready yet.
 */
export function pingServer(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return talk(host, port, timeoutMs, (reply) => /^(\+PONG|-NOAUTH|-WRONGPASS)/.test(reply))
}

/** A tcpSocket probe: the port accepts a connection. */
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
    const timer = setTimeout(() => finish(false), timeoutMs)
    socket.once('error', () => finish(false))
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

/** How to check a container: what to connect to, and how often. */
export interface ProbeSpec {
  kind: 'ping' | 'tcp'
  port: number
  initialDelayMs: number
  periodMs: number
  timeoutMs: number
  failureThreshold: number
}

interface ProbeLike {
  tcpSocket?: {port: number | string}
  exec?: {command?: string[]}
  initialDelaySeconds?: number
  periodSeconds?: number
  timeoutSeconds?: number
  failureThreshold?: number
}

interface PortedContainer {
  ports?: {name?: string; containerPort: number}[]
}

/**
 * What a probe checks in the sandbox. A tcpSocket probe connects to its port (named ports resolve through
 * the container's ports). Everything else, and no probe at all, is a PING of the server: an exec probe is
 * taken to be `redis-cli [-p PORT] ping` (its -p is honoured), which is what redis probes run, and the host
 * never runs commands from a pod spec.
 */
export function probeSpec(probe: ProbeLike | undefined, container: PortedContainer, serverPort: number): ProbeSpec {
  const timing = {
    initialDelayMs: (probe?.initialDelaySeconds ?? 0) * 1000,
    periodMs: (probe?.periodSeconds ?? 10) * 1000,
    timeoutMs: (probe?.timeoutSeconds ?? 1) * 1000,
    failureThreshold: probe?.failureThreshold ?? 3,
  }
  if (probe?.tcpSocket) {
    const {port} = probe.tcpSocket
    const resolved = typeof port === 'number' ? port : Number(port) || container.ports?.find((p) => p.name === port)?.containerPort
    return {kind: 'tcp', port: resolved ?? serverPort, ...timing}
  }
  const command = (probe?.exec?.command ?? []).flatMap((word) => word.split(/\s+/))
  const portFlag = command.findIndex((word) => word === '-p')
  const cliPort = portFlag >= 0 ? Number(command[portFlag + 1]) : NaN
  return {kind: 'ping', port: Number.isInteger(cliPort) && cliPort > 0 ? cliPort : serverPort, ...timing}
}

/** Runs one check of a probe against the pod IP. */
export const runProbe = (spec: ProbeSpec, podIp: string): Promise<boolean> =>
  spec.kind === 'tcp' ? tcpOpen(podIp, spec.port, spec.timeoutMs) : pingServer(podIp, spec.port, spec.timeoutMs)

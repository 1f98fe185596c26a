import {pingServer, tcpOpen} from '../../redis/probe.js'

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

import type {IncomingMessage} from 'node:http'
import {connect, type Socket} from 'node:net'
import type {Duplex} from 'node:stream'

import {WebSocketServer, type WebSocket} from 'ws'

import {dialError} from '../dial-error.js'
import {OpenStreams} from '../open-streams.js'
import {type SpdyStream, SpdySession} from './spdy.js'

export const PORTFORWARD_PROTOCOL = 'portforward.k8s.io'
const CHANNEL_V4 = 'v4.channel.k8s.io'

/** Where a port-forward ends: the pod's IP, and the pod as errors name it. */
export interface ForwardTarget {
  ip: string
  pod: string
  uid: string
}

/** A refusal before any upgrade, as the kubelet writes it: a status code and a plain-text reason. */
export interface Refusal {
  code: number
  text: string
}

/**
 * The ports a WebSocket port-forward asks for (`?port=6379,6380` or `?port=6379&port=6380`), checked as the
 * kubelet's NewV4Options checks them. SPDY asks per stream instead, so only WebSocket requests need them.
 */
export function requestedPorts(values: string[]): number[] | Refusal {
  if (values.length === 0) return {code: 400, text: 'query parameter "port" is required'}
  const ports: number[] = []
  for (const value of values) {
    if (value === '') return {code: 400, text: 'query parameter "port" cannot be empty'}
    for (const part of value.split(',')) {
      const port = /^\d+$/.test(part) ? Number(part) : NaN
      if (!(port <= 65535)) return {code: 400, text: `unable to parse "${value}" as a port`}
      if (port < 1) return {code: 400, text: `port "${value}" must be > 0`}
      ports.push(port)
    }
  }
  return ports
}

/**
 * The kubelet's port-forward protocols (the CRI streaming server's): kubectl's portforward.k8s.io over SPDY/3.1,
 * where each forwarded connection opens an error and a data stream sharing a requestID; and the WebSocket channel
 * protocol client-node speaks (v4.channel.k8s.io: per port a data channel 2i and an error channel 2i+1, each
 * opened by a frame carrying the port as 2 little-endian bytes). Each stream is connected to the pod's IP and port.
 */
export class PortForwarder {
  private readonly wss = new WebSocketServer({noServer: true, handleProtocols: (offered) => (offered.has(CHANNEL_V4) ? CHANNEL_V4 : false)})
  private readonly streams = new OpenStreams()

  constructor(private readonly log: (line: string) => void) {}

  /** Serves one upgrade request for the target, or says why it cannot. */
  serve(req: IncomingMessage, socket: Duplex, head: Buffer, target: ForwardTarget, ports: number[] | undefined): Refusal | undefined {
    const upgrade = req.headers.upgrade?.toLowerCase()
    if (upgrade === 'websocket' && ports) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.serveChannels(ws, target, ports))
      return undefined
    }
    if (upgrade !== 'spdy/3.1') return {code: 400, text: 'unable to upgrade: missing upgrade headers in request'}
    const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((p) => p.trim()).filter(Boolean)
    if (!offered.includes(PORTFORWARD_PROTOCOL)) {
      return {code: 403, text: `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${PORTFORWARD_PROTOCOL}]`}
    }
    this.streams.track(socket)
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORTFORWARD_PROTOCOL}\r\n\r\n`)
    const pairs = new Map<string, StreamPair>()
    const session = new SpdySession((chunk) => socket.write(chunk), (stream) => this.pairStream(pairs, stream, target), () => socket.destroy())
    socket.on('data', (chunk: Buffer) => session.receive(chunk))
    socket.on('close', () => session.close())
    socket.on('error', () => session.close())
    if (head.length > 0) session.receive(head)
    return undefined
  }

  close(): void {
    this.streams.endAll()
    this.wss.close()
  }

  private dial(target: ForwardTarget, port: number, failed: (message: string) => void): Socket {
    const conn = this.streams.track(connect({host: target.ip, port}))
    conn.on('error', (error: NodeJS.ErrnoException) => {
      const message = `error forwarding port ${port} to pod ${target.pod}, uid ${target.uid}: ${dialError(error, target.ip, port)}`
      this.log(`kubelet: ${message}`)
      failed(message)
    })
    return conn
  }

  private pairStream(pairs: Map<string, StreamPair>, stream: SpdyStream, target: ForwardTarget): void {
    const requestId = stream.headers.requestid ?? ''
    const pair = pairs.get(requestId) ?? {}
    pairs.set(requestId, pair)
    if (stream.headers.streamtype === 'error') pair.error = stream
    else if (stream.headers.streamtype === 'data') pair.data = stream
    else return stream.reset()
    if (!pair.data || !pair.error) return
    pairs.delete(requestId)
    this.forwardStreams(pair.data, pair.error, target, Number(stream.headers.port))
  }

  /** One forwarded connection over SPDY; a failure is written to the error stream, which kubectl prints, and both streams are reset. */
  private forwardStreams(data: SpdyStream, error: SpdyStream, target: ForwardTarget, port: number): void {
    error.onData = (): void => {}
    const conn = this.dial(target, port, (message) => {
      error.write(Buffer.from(message))
      data.reset()
      error.reset()
    })
    data.onData = (chunk) => (chunk ? conn.write(chunk) : conn.end())
    data.onReset = () => conn.destroy()
    error.onReset = () => conn.destroy()
    conn.on('data', (chunk: Buffer) => data.write(chunk))
    conn.on('close', () => {
      data.end()
      error.end()
    })
  }

  private serveChannels(ws: WebSocket, target: ForwardTarget, ports: number[]): void {
    this.streams.track(ws)
    const conns = ports.map((port, i) => {
      const portBytes = Buffer.from([port & 0xff, port >> 8])
      ws.send(Buffer.concat([Buffer.from([2 * i]), portBytes]))
      ws.send(Buffer.concat([Buffer.from([2 * i + 1]), portBytes]))
      const conn = this.dial(target, port, (message) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(message)]))
        ws.close()
      })
      conn.on('data', (data: Buffer) => ws.send(Buffer.concat([Buffer.from([2 * i]), data])))
      conn.on('end', () => ws.close())
      return conn
    })
    ws.on('message', (data: Buffer, isBinary) => {
      const frame = isBinary ? data : Buffer.from(data)
      const channel = frame[0]
      if (channel % 2 === 0 && conns[channel / 2]) conns[channel / 2].write(frame.subarray(1))
    })
    ws.on('close', () => conns.forEach((c) => c.destroy()))
  }
}

interface StreamPair {
  data?: SpdyStream
  error?: SpdyStream
}

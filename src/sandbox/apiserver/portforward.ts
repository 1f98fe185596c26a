import type {IncomingMessage} from 'node:http'
import {connect} from 'node:net'
import type {Duplex} from 'node:stream'

import type {V1Pod} from '@kubernetes/client-node'
import {WebSocketServer, type WebSocket} from 'ws'

import type {KObject} from './object.js'
import {parsePath} from './paths.js'
import type {Registry} from './registry.js'
import {type SpdyStream, SpdySession} from './spdy.js'
import {ApiError, badRequest, noSuchPath} from './status.js'

const CHANNEL_V4 = 'v4.channel.k8s.io'
const PORTFORWARD_V1 = 'portforward.k8s.io'
/** kubectl 1.30+ tunnels SPDY through WebSocket binary messages under this subprotocol (PortForwardWebsockets). */
const SPDY_TUNNEL = `SPDY/3.1+${PORTFORWARD_V1}`

/**
 * `SPDY/3.1+portforward.k8s.io` is not an RFC 7230 token (it has a slash), so the ws library refuses to parse it.
 * The upgrade handler swaps it for this stand-in before the handshake, and the handshake answers with the real name.
 */
const SPDY_TUNNEL_TOKEN = 'redisctl-sandbox-spdy-tunnel'

function chooseProtocol(offered: Set<string>): string | false {
  if (offered.has(SPDY_TUNNEL_TOKEN)) return SPDY_TUNNEL
  if (offered.has(CHANNEL_V4)) return CHANNEL_V4
  return false
}

export interface ForwardTarget {
  host: string
  ports: number[]
}

/**
 * pods/portforward: the kubelet's side of port forwarding, done here because pods are loopback addresses. Speaks
 * the WebSocket channel protocol client-node uses (v4.channel.k8s.io: per port a data channel 2i and an error
 * channel 2i+1, each opened by a frame carrying the port as 2 little-endian bytes), and kubectl's portforward.k8s.io
 * over SPDY/3.1, either tunneled through WebSocket or on a plain SPDY upgrade.
 */
export class PortForwarding {
  private readonly wss = new WebSocketServer({noServer: true, handleProtocols: chooseProtocol})
  private readonly open = new Set<Duplex | WebSocket>()

  constructor(private readonly registry: Registry, private readonly log: (line: string) => void) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.track(socket)
    let target: ForwardTarget
    try {
      target = this.target(req)
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(500, 'InternalError', String(error))
      return rejectUpgrade(socket, e)
    }
    const offered = new Set((req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()))
    const upgrade = req.headers.upgrade?.toLowerCase()
    if (upgrade === 'websocket' && offered.has(SPDY_TUNNEL)) {
      req.headers['sec-websocket-protocol'] = SPDY_TUNNEL_TOKEN
      this.wss.handleUpgrade(req, socket, head, (ws) => this.serveSpdyOverWebSocket(ws, target))
      return
    }
    if (upgrade === 'websocket' && chooseProtocol(offered) === CHANNEL_V4) {
      if (target.ports.length === 0) return rejectUpgrade(socket, badRequest('query parameter "port" is required'))
      this.wss.handleUpgrade(req, socket, head, (ws) => this.serveChannels(ws, target))
      return
    }
    if (upgrade === 'spdy/3.1' && String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((p) => p.trim()).includes(PORTFORWARD_V1)) {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORTFORWARD_V1}\r\n\r\n`)
      const session = this.spdySession(target, (chunk) => socket.write(chunk), () => socket.destroy())
      socket.on('data', (chunk: Buffer) => session.receive(chunk))
      socket.on('close', () => session.close())
      socket.on('error', () => session.close())
      if (head.length > 0) session.receive(head)
      return
    }
    rejectUpgrade(socket, badRequest('unable to upgrade: no supported port-forward protocol was offered'))
  }

  close(): void {
    for (const s of this.open) {
      if ('terminate' in s) s.terminate()
      else s.destroy()
    }
    this.open.clear()
    this.wss.close()
  }

  /** The pod must exist, be Running and have an IP, as the kubelet requires before it forwards. */
  private target(req: IncomingMessage): ForwardTarget {
    const url = new URL(req.url ?? '/', 'http://sandbox')
    const parsed = parsePath(url.pathname)
    if (parsed.type !== 'resource' || parsed.path.subresource !== 'portforward') throw noSuchPath()
    const {resource, namespace, name} = parsed.path
    const pod = this.registry.get(resource, namespace, name!) as V1Pod & KObject
    if (!pod.spec?.nodeName) throw badRequest(`pod ${name} does not have a host assigned`)
    if (pod.status?.phase !== 'Running') throw badRequest(`unable to forward port because pod is not running. Current status=${pod.status?.phase ?? 'Pending'}`)
    if (!pod.status.podIP) throw badRequest(`pod ${name} has no IP address yet`)
    const ports = url.searchParams.getAll('ports').flatMap((p) => p.split(',')).filter(Boolean).map(Number)
    if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw badRequest('invalid port in "ports" query parameter')
    return {host: pod.status.podIP, ports}
  }

  private track<T extends Duplex | WebSocket>(s: T): T {
    this.open.add(s)
    s.once('close', () => this.open.delete(s))
    return s
  }

  private serveSpdyOverWebSocket(ws: WebSocket, target: ForwardTarget): void {
    this.track(ws)
    const session = this.spdySession(target, (chunk) => ws.send(chunk), () => ws.close())
    ws.on('message', (data: Buffer) => session.receive(data))
    ws.on('close', () => session.close())
  }

  /**
   * portforward.k8s.io: for each local connection kubectl opens an error stream and a data stream carrying the same
   * requestID and port headers. Once both are there the pod's port is dialled and bytes copied until either side ends;
   * failures are written to the error stream, which kubectl prints.
   */
  private spdySession(target: ForwardTarget, send: (chunk: Buffer) => void, close: () => void): SpdySession {
    const pairs = new Map<string, StreamPair>()
    return new SpdySession(send, (stream) => this.pairStream(pairs, stream, target), close)
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
    this.forward(pair.data, pair.error, target.host, Number(stream.headers.port))
  }

  private forward(data: SpdyStream, error: SpdyStream, host: string, port: number): void {
    error.onData = (): void => {}
    const conn = this.track(connect({host, port}))
    const finish = (): void => {
      data.end()
      error.end()
    }
    data.onData = (chunk) => (chunk ? conn.write(chunk) : conn.end())
    data.onReset = () => conn.destroy()
    error.onReset = () => conn.destroy()
    conn.on('data', (chunk: Buffer) => data.write(chunk))
    conn.on('error', (e) => {
      const message = `error forwarding port ${port} to pod ${host}: ${e.message}`
      this.log(`portforward: ${message}`)
      error.write(Buffer.from(message))
    })
    conn.on('close', finish)
  }

  private serveChannels(ws: WebSocket, target: ForwardTarget): void {
    this.track(ws)
    const conns = target.ports.map((port, i) => {
      const portBytes = Buffer.from([port & 0xff, port >> 8])
      ws.send(Buffer.concat([Buffer.from([2 * i]), portBytes]))
      ws.send(Buffer.concat([Buffer.from([2 * i + 1]), portBytes]))
      const conn = this.track(connect({host: target.host, port}))
      conn.on('data', (data: Buffer) => ws.send(Buffer.concat([Buffer.from([2 * i]), data])))
      conn.on('error', (error) => {
        const message = `error forwarding port ${port} to pod ${target.host}: ${error.message}`
        this.log(`portforward: ${message}`)
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(message)]))
        ws.close()
      })
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

function rejectUpgrade(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify(error.toStatus())
  socket.end(`HTTP/1.1 ${error.code} ${statusText(error.code)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}

const statusText = (code: number): string => ({400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error'})[code] ?? 'Error'


import type {IncomingMessage} from 'node:http'
import type {Duplex} from 'node:stream'
import {connect as tlsConnect, type TLSSocket} from 'node:tls'

import type {V1Node, V1Pod} from '@kubernetes/client-node'
import {WebSocketServer} from 'ws'

import {dialError} from '../dial-error.js'
import {OpenStreams} from '../open-streams.js'
import {endWithResponse} from '../raw-http.js'
import type {KObject} from './object.js'
import {parsePath} from './paths.js'
import type {Registry} from './registry.js'
import {NODES, PODS} from './resources.js'
import {ApiError, badRequest, noSuchPath} from './status.js'

/** kubectl 1.30+ tunnels SPDY through WebSocket binary messages under subprotocols `SPDY/3.1+<protocol>` (PortForwardWebsockets). */
const TUNNEL_PREFIX = 'SPDY/3.1+'

/**
 * `SPDY/3.1+portforward.k8s.io` is not an RFC 7230 token (it has a slash), so the ws library refuses to parse it.
 * The tunnel swaps it for this stand-in before the handshake, and the handshake answers with the real name.
 */
const TUNNEL_TOKEN = 'redisctl-sandbox-spdy-tunnel'

/** Where a kubelet listens when its Node does not say (kube-apiserver's --kubelet-port). */
const DEFAULT_KUBELET_PORT = 10250

/** kube-apiserver's --kubelet-preferred-address-types as kubeadm sets it (the built-in default puts Hostname first). */
const PREFERRED_ADDRESS_TYPES = ['InternalIP', 'ExternalIP', 'Hostname']

const DIAL_TIMEOUT_MS = 10_000

/** How the API server reaches kubelets: kube-apiserver's --kubelet-certificate-authority and --kubelet-client-certificate/-key. */
export interface KubeletClientOptions {
  /** PEM CA bundle that kubelet serving certificates must chain to; without one they are not verified, as in kube-apiserver. */
  ca?: string
  /** PEM client certificate and key shown to kubelets that authenticate their callers. */
  cert?: string
  key?: string
}

/** What authorization decides a pods/portforward request on, as kube-apiserver's request info names it. */
export interface PortForwardAttributes {
  verb: 'get' | 'create'
  namespace: string
  resource: 'pods'
  subresource: 'portforward'
  name: string
}

/** Admits a request or throws the ApiError (401, 403) that refuses it. */
export type Authorize = (req: IncomingMessage, attributes: PortForwardAttributes) => void | Promise<void>

interface KubeletLocation {
  host: string
  port: number
  /** Path and query on the kubelet: /portForward/{namespace}/{pod}?port=... */
  path: string
}

/**
 * pods/portforward as kube-apiserver serves it: it never opens a stream to a pod itself, it proxies the upgrade
 * to the kubelet of the pod's node (the node's address and status.daemonEndpoints.kubeletEndpoint.Port, over
 * HTTPS). SPDY and WebSocket upgrades pass through as they are; kubectl's SPDY tunnelled through WebSocket is
 * unwrapped here, the kubelet getting a SPDY upgrade, and its bytes carried in WebSocket binary messages.
 */
export class PortForwardProxy {
  /** The tunnel answers the client's WebSocket handshake with the protocol the kubelet chose for the request. */
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>()
  private readonly wss = new WebSocketServer({noServer: true, handleProtocols: (_offered, req) => this.chosenProtocol.get(req) ?? false})
  private readonly streams = new OpenStreams()

  constructor(
    private readonly registry: Registry,
    private readonly options: {kubeletClient: KubeletClientOptions; authorize: Authorize; log: (line: string) => void},
  ) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.streams.track(socket)
    socket.on('error', () => socket.destroy())
    this.serve(req, socket, head).catch((error: unknown) => {
      const e = error instanceof ApiError ? error : new ApiError(500, 'InternalError', `Internal error occurred: ${String(error)}`)
      endWithResponse(socket, e.code, 'application/json', JSON.stringify(e.toStatus()))
    })
  }

  close(): void {
    this.streams.endAll()
    this.wss.close()
  }

  private async serve(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox')
    const parsed = parsePath(url.pathname)
    if (parsed.type !== 'resource' || parsed.path.subresource !== 'portforward') throw noSuchPath()
    const namespace = parsed.path.namespace!
    const name = parsed.path.name!
    await this.options.authorize(req, {verb: req.method === 'POST' ? 'create' : 'get', namespace, resource: 'pods', subresource: 'portforward', name})
    const location = this.locate(namespace, name, url.searchParams)
    const tunnelled = offeredProtocols(req).filter((p) => p.startsWith(TUNNEL_PREFIX)).map((p) => p.slice(TUNNEL_PREFIX.length))
    if (req.headers.upgrade?.toLowerCase() === 'websocket' && tunnelled.length > 0) return this.tunnel(req, socket, head, location, tunnelled)
    const backend = await this.dial(location, socket)
    backend.write(requestHead(req.method ?? 'GET', location, forwardedHeaders(req, [])))
    if (head.length > 0) backend.write(head)
    const response = await readResponseHead(backend)
    if (response.status !== 101 && response.status < 400) throw new ApiError(500, '', `invalid upgrade response: status code ${response.status}`)
    socket.write(response.raw)
    if (response.status !== 101) return replayRest(backend, socket)
    backend.pipe(socket)
    socket.pipe(backend)
    backend.on('close', () => socket.end())
  }

  /** The kubelet of the pod's node, as kube-apiserver's PortForwardLocation and NodeConnectionInfoGetter find it. */
  private locate(namespace: string, name: string, query: URLSearchParams): KubeletLocation {
    const pod = this.registry.get(PODS, namespace, name) as V1Pod & KObject
    const nodeName = pod.spec?.nodeName
    if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`)
    const node = this.registry.get(NODES, undefined, nodeName) as V1Node & KObject
    const host = preferredAddress(node)
    const reported = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0
    const ports = query.getAll('ports').flatMap((p) => p.split(',')).filter(Boolean)
    if (ports.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535)) throw badRequest('invalid port in "ports" query parameter')
    const search = ports.length > 0 ? `?${new URLSearchParams({port: ports.join(',')})}` : ''
    return {host, port: reported > 0 ? reported : DEFAULT_KUBELET_PORT, path: `/portForward/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}${search}`}
  }

  /**
   * The WebSocket tunnel (kube-apiserver's TunnelingHandler): the kubelet gets a SPDY upgrade offering the
   * tunnelled protocols; once it switches, the client's WebSocket is accepted with the protocol the kubelet chose,
   * and bytes flow unchanged between the two. A kubelet that refuses has its answer passed to the client as it is.
   */
  private async tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, location: KubeletLocation, protocols: string[]): Promise<void> {
    const backend = await this.dial(location, socket)
    const headers = forwardedHeaders(req, ['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions'])
    headers.push(['Connection', 'Upgrade'], ['Upgrade', 'SPDY/3.1'], ...protocols.map((p): [string, string] => ['X-Stream-Protocol-Version', p]))
    backend.write(requestHead('POST', location, headers))
    const response = await readResponseHead(backend)
    if (response.status !== 101) {
      socket.write(response.raw)
      return replayRest(backend, socket)
    }
    const upgraded = /upgrade/i.test(response.headers.connection ?? '') && /spdy\/3\.1/i.test(response.headers.upgrade ?? '')
    if (!upgraded) {
      backend.destroy()
      return endWithResponse(socket, 500, 'text/plain; charset=utf-8', 'unable to upgrade: missing upgrade headers in response')
    }
    const chosen = response.headers['x-stream-protocol-version']?.trim()
    if (chosen) this.chosenProtocol.set(req, `${TUNNEL_PREFIX}${chosen}`)
    req.headers['sec-websocket-protocol'] = TUNNEL_TOKEN
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.streams.track(ws)
      backend.on('data', (chunk: Buffer) => ws.send(chunk))
      backend.resume()
      ws.on('message', (data: Buffer) => backend.write(data))
      ws.on('close', () => backend.destroy())
      backend.on('close', () => ws.close())
    })
  }

  /** A TLS connection to the kubelet, destroyed when the client goes. */
  private dial(location: KubeletLocation, client: Duplex): Promise<TLSSocket> {
    const {ca, cert, key} = this.options.kubeletClient
    return new Promise((resolve, reject) => {
      const backend = this.streams.track(tlsConnect({host: location.host, port: location.port, ca, cert, key, rejectUnauthorized: Boolean(ca), timeout: DIAL_TIMEOUT_MS}))
      const fail = (message: string): void => {
        backend.destroy()
        this.options.log(`apiserver: port-forward: ${message}`)
        reject(new ApiError(500, '', message))
      }
      backend.once('secureConnect', () => {
        backend.setTimeout(0)
        backend.removeAllListeners('error')
        backend.on('error', () => backend.destroy())
        client.on('close', () => backend.destroy())
        resolve(backend)
      })
      backend.once('timeout', () => fail(`error dialing backend: dial tcp ${location.host}:${location.port}: i/o timeout`))
      backend.once('error', (error: NodeJS.ErrnoException) => {
        const reason = error.syscall ? dialError(error, location.host, location.port) : `tls: ${error.message}`
        fail(`error dialing backend: ${reason}`)
      })
    })
  }
}

/**
 * The node's address by preference type (pkg/util/node GetPreferredNodeAddress): Hostname falls back on the
 * kubernetes.io/hostname label; none found is a 500 listing the addresses, as Go formats them.
 */
function preferredAddress(node: V1Node): string {
  const addresses = node.status?.addresses ?? []
  for (const type of PREFERRED_ADDRESS_TYPES) {
    const found = addresses.find((a) => a.type === type)?.address ?? (type === 'Hostname' ? node.metadata?.labels?.['kubernetes.io/hostname'] : undefined)
    if (found) return found
  }
  throw new ApiError(500, '', `no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(' ')}]`)
}

function offeredProtocols(req: IncomingMessage): string[] {
  return String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean)
}

/**
 * The client's headers for the kubelet, less those named, and less what kube-apiserver keeps to itself: its own
 * Host, and the client's credentials (the authentication filter removes Authorization).
 */
function forwardedHeaders(req: IncomingMessage, drop: string[]): Array<[string, string]> {
  const dropped = new Set(['host', 'authorization', ...drop])
  const headers: Array<[string, string]> = []
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!dropped.has(req.rawHeaders[i].toLowerCase())) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]])
  }
  const client = req.socket.remoteAddress
  if (client) headers.push(['X-Forwarded-For', client])
  return headers
}

function requestHead(method: string, location: KubeletLocation, headers: Array<[string, string]>): string {
  const lines = [[`Host`, `${location.host}:${location.port}`], ...headers].map(([k, v]) => `${k}: ${v}`)
  return `${method} ${location.path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`
}

interface ResponseHead {
  status: number
  headers: Record<string, string>
  /** The status line and headers as received. */
  raw: Buffer
}

/**
 * Reads an HTTP response's status line and headers off a socket, keeping their raw bytes to pass on; what came
 * after them goes back into the socket, which is left paused.
 */
function readResponseHead(socket: Duplex): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      const end = buffered.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.pause()
      const raw = buffered.subarray(0, end + 4)
      const [statusLine, ...lines] = raw.toString('latin1').trimEnd().split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of lines) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      socket.unshift(buffered.subarray(end + 4))
      resolve({status: Number(statusLine.split(' ')[1]), headers, raw})
    }
    const onClose = (): void => reject(new ApiError(500, '', 'error reading the kubelet\'s response: connection closed'))
    socket.on('data', onData)
    socket.once('close', onClose)
  })
}

/** A refusal from the kubelet: its body follows its headers to the client, then both connections end. */
function replayRest(backend: Duplex, client: Duplex): void {
  backend.on('data', (chunk: Buffer) => client.write(chunk))
  backend.on('end', () => client.end())
  backend.on('close', () => client.end())
  backend.resume()
}

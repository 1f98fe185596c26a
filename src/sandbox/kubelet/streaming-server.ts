import type {IncomingMessage, ServerResponse} from 'node:http'
import {createServer} from 'node:https'
import type {AddressInfo} from 'node:net'
import type {Duplex} from 'node:stream'
import type {TLSSocket} from 'node:tls'

import {PreconditionError} from '../../errors.js'
import {endWithResponse} from '../raw-http.js'
import {type ForwardTarget, PortForwarder, type Refusal, requestedPorts} from './port-forward.js'

/** What the kubelet knows of a pod bound to its node: its uid, and its IP while its servers run. */
export interface PodEndpoint {
  uid: string
  ip?: string
}

export interface StreamingServerOptions {
  address: string
  /** 0 picks a free port. */
  port: number
  /** The serving certificate and key, PEM. */
  cert: string
  key: string
  /** PEM CA bundle: a caller presenting a certificate it signed is authenticated (the kubelet's --client-ca-file). */
  clientCa?: string
  /** Callers that present no certificate are let in as system:anonymous (the kubelet's --anonymous-auth). */
  anonymousAuth: boolean
  findPod(namespace: string, name: string): PodEndpoint | undefined
  log: (line: string) => void
}

export interface StreamingServer {
  port: number
  close(): Promise<void>
}

const PORT_FORWARD_PATH = /^\/portForward\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/

/**
 * The part of the kubelet's HTTPS server (port 10250) that kube-apiserver proxies pods/portforward to:
 * `/portForward/{namespace}/{pod}[/{uid}]`, GET or POST, upgraded to SPDY or WebSocket. Callers are authenticated
 * as a kubelet does it: by a client certificate signed by the client CA, else as system:anonymous when anonymous
 * requests are allowed; every authenticated caller is then allowed (the kubelet's AlwaysAllow authorization mode).
 */
export async function startStreamingServer(options: StreamingServerOptions): Promise<StreamingServer> {
  const forwarder = new PortForwarder(options.log)
  const server = createServer({
    cert: options.cert,
    key: options.key,
    ...(options.clientCa ? {ca: options.clientCa, requestCert: true, rejectUnauthorized: false} : {}),
  })
  const route = (req: IncomingMessage): Refusal | {target: ForwardTarget; ports?: number[]} => {
    if (!authenticated(req.socket as TLSSocket, options)) return {code: 401, text: 'Unauthorized'}
    const url = new URL(req.url ?? '/', 'https://kubelet')
    const match = PORT_FORWARD_PATH.exec(url.pathname)
    if (!match || !['GET', 'POST'].includes(req.method ?? '')) return {code: 404, text: '404: Page Not Found'}
    const [namespace, name, uid] = match.slice(1).map((part) => part && decodeURIComponent(part))
    const websocket = req.headers.upgrade?.toLowerCase() === 'websocket'
    const ports = websocket ? requestedPorts(url.searchParams.getAll('port')) : undefined
    if (ports && !Array.isArray(ports)) return ports
    const pod = options.findPod(namespace, name)
    if (!pod) return {code: 404, text: 'pod does not exist'}
    if (uid && uid !== pod.uid) return {code: 404, text: 'pod not found'}
    if (!pod.ip) return {code: 500, text: `pod not found ("${name}_${namespace}")`}
    return {target: {ip: pod.ip, pod: `${namespace}/${name}`, uid: pod.uid}, ports}
  }
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const routed = route(req)
    const refusal = 'code' in routed ? routed : {code: 400, text: 'unable to upgrade: missing upgrade headers in request'}
    res.writeHead(refusal.code, {'Content-Type': 'text/plain; charset=utf-8'})
    res.end(refusal.text)
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const routed = route(req)
    const refusal = 'code' in routed ? routed : forwarder.serve(req, socket, head, routed.target, routed.ports)
    if (refusal) endWithResponse(socket, refusal.code, 'text/plain; charset=utf-8', refusal.text)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' || error.code === 'EADDRNOTAVAIL'
        ? new PreconditionError(`The kubelet cannot serve on ${options.address}:${options.port} (${error.code}).`, [
          'Stop what listens there, or give the kubelet another address or port.',
        ])
        : error)
    })
    server.listen(options.port, options.address, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      forwarder.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

function authenticated(socket: TLSSocket, options: StreamingServerOptions): boolean {
  const presented = Object.keys(socket.getPeerCertificate?.() ?? {}).length > 0
  // A certificate that does not verify fails the request even when anonymous requests are allowed, as in the
  // kubelet's authenticator chain.
  if (presented) return socket.authorized
  return options.anonymousAuth
}

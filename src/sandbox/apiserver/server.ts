import {randomBytes} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {createServer} from 'node:https'
import type {AddressInfo, Socket} from 'node:net'

import {PreconditionError} from '../../errors.js'
import {apiserverPki, type SandboxPki} from '../pki.js'
import {Access} from './access.js'
import type {StaticToken} from './authn.js'
import {apiGroup, apiGroupList, apiVersions, resourceList, VERSION_INFO} from './discovery.js'
import {handleResource, sendError, sendJson, type RequestContext} from './handlers.js'
import {openApiV2Protobuf, openApiV3Document, openApiV3Index} from './openapi.js'
import {parsePath} from './paths.js'
import {type KubeletClientOptions, PortForwardProxy} from './portforward.js'
import type {UserInfo} from './rbac.js'
import {Registry} from './registry.js'
import {handleComputed, isComputed} from './reviews.js'
import {ApiError, noSuchPath} from './status.js'
import {Store} from './store.js'

/** The user of the token the server makes for itself, in the group RBAC never restricts (like kubeadm's admin.conf). */
export const SANDBOX_ADMIN = {user: 'redisctl-sandbox-admin', groups: ['system:masters']}

export interface ApiServerOptions {
  /** Default 127.0.0.1: the sandbox is for this machine only. */
  host?: string
  /** 0 picks a free port. */
  port?: number
  log?: (line: string) => void
  /** How many changes watches can resume from before answering 410 Gone; default 10000. */
  watchHistory?: number
  /** Users known by a bearer token (kube-apiserver's --token-auth-file), besides the admin the server makes itself. */
  tokens?: StaticToken[]
  /** The serving certificate and its CA; default: a CA and certificate made for this start. */
  tls?: Pick<SandboxPki, 'ca' | 'apiserverServing'>
  /** How pods/portforward reaches kubelets; default HTTPS without verifying them and without a client certificate. */
  kubeletClient?: KubeletClientOptions
}

export interface RunningApiServer {
  /** https://host:port */
  url: string
  port: number
  /** The PEM of the CA of the server's certificate: the clients' certificate-authority-data. */
  ca: string
  /** A bearer token of SANDBOX_ADMIN: cluster-admin, for the kubeconfig `sandbox up` writes. */
  adminToken: string
  close(): Promise<void>
}

/**
 * An in-memory Kubernetes API server over HTTPS: bearer-token authentication and RBAC authorization, discovery,
 * CRUD, list/watch with selectors, patches, Status errors, garbage collection, and pods/portforward proxied to the
 * pod's kubelet. Controllers and the kubelet use it through client-node.
 */
export async function startApiServer(options: ApiServerOptions = {}): Promise<RunningApiServer> {
  const host = options.host ?? '127.0.0.1'
  const log = options.log ?? ((): void => {})
  const store = new Store(options.watchHistory ?? 10_000)
  const registry = new Registry(store)
  const adminToken = randomBytes(24).toString('hex')
  const access = new Access(registry, [{token: adminToken, ...SANDBOX_ADMIN}, ...(options.tokens ?? [])])
  const watches = new Set<() => void>()
  const ctx: ServerContext = {
    registry,
    access,
    trackWatch(end) {
      watches.add(end)
      return () => watches.delete(end)
    },
  }
  let address = ''
  const tls = options.tls ?? await apiserverPki(host)
  const server = createServer({cert: tls.apiserverServing.cert, key: tls.apiserverServing.key}, (req, res) => {
    serve(req, res, ctx, address).catch((error: unknown) => {
      if (error instanceof ApiError) return sendError(res, error)
      log(`apiserver: ${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`)
      if (!res.headersSent) sendError(res, new ApiError(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`))
      else res.destroy()
    })
  })
  // Upgrades do not pass through serve(): their request is authenticated and authorized as the proxy takes it.
  const forwarding = new PortForwardProxy(registry, {
    kubeletClient: options.kubeletClient ?? {}, authorize: (req) => void access.admit(req, new URL(req.url ?? '/', 'https://sandbox')), log,
  })
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => forwarding.upgrade(req, socket, head))
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new PreconditionError(`cannot start the sandbox API server: ${host}:${options.port} is already in use`, ['Stop what listens there, or choose another port.'])
        : error)
    })
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  address = `${host}:${port}`
  return {
    url: `https://${address}`,
    port,
    ca: tls.ca,
    adminToken,
    async close() {
      for (const end of [...watches]) end()
      forwarding.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

interface ServerContext extends RequestContext {
  access: Access
}

async function serve(req: IncomingMessage, res: ServerResponse, ctx: ServerContext, address: string): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox')
  const user: UserInfo = ctx.access.admit(req, url)
  const pathname = url.pathname.replace(/\/+$/, '') || '/'
  const get = (body: object | undefined): void => {
    if (body === undefined) throw noSuchPath()
    if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
    sendJson(res, 200, body)
  }
  switch (pathname) {
    case '/version': return get(VERSION_INFO)
    case '/api': return get(apiVersions(address))
    case '/apis': return get(apiGroupList())
    case '/healthz': case '/livez': case '/readyz':
      res.writeHead(200, {'Content-Type': 'text/plain; charset=utf-8'})
      res.end('ok')
      return
  }
  if (pathname === '/openapi/v2' && req.method === 'GET') {
    const body = openApiV2Protobuf()
    // The media type kubectl asks for has an '@', which Go's mime parser refuses in an answer; the real server says this.
    res.writeHead(200, {'Content-Type': 'application/octet-stream', 'Content-Length': body.length})
    res.end(body)
    return
  }
  if (pathname === '/openapi/v3') return get(openApiV3Index())
  if (pathname.startsWith('/openapi/v3/')) return get(openApiV3Document(pathname.slice('/openapi/v3/'.length)))
  const groupPath = /^\/apis\/([^/]+)$/.exec(pathname)
  if (groupPath) return get(apiGroup(groupPath[1]))
  const parsed = parsePath(pathname)
  if (parsed.type === 'groupVersion') return get(resourceList(parsed.group, parsed.version))
  if (parsed.type === 'resource') {
    return isComputed(parsed.path) ? handleComputed(req, res, parsed.path, user, ctx) : handleResource(req, res, url, parsed.path, ctx)
  }
  if (pathname.startsWith('/api/') || pathname.startsWith('/apis/')) throw noSuchPath()
  res.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8'})
  res.end('404 page not found\n')
}

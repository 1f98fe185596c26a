import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {PreconditionError} from '../../errors.js'
import {apiGroup, apiGroupList, apiVersions, resourceList, VERSION_INFO} from './discovery.js'
import {handleResource, sendError, sendJson, type RequestContext} from './handlers.js'
import {openApiV3Document, openApiV3Index} from './openapi.js'
import {parsePath} from './paths.js'
import {type KubeletClientOptions, PortForwardProxy} from './portforward.js'
import {Registry} from './registry.js'
import {ApiError, noSuchPath} from './status.js'
import {Store} from './store.js'

export interface ApiServerOptions {
  /** Default 127.0.0.1: the server has no authentication, so it must stay on loopback. */
  host?: string
  /** 0 picks a free port. */
  port?: number
  log?: (line: string) => void
  /** How many changes watches can resume from before answering 410 Gone; default 10000. */
  watchHistory?: number
  /** How pods/portforward reaches kubelets; default HTTPS without verifying them and without a client certificate. */
  kubeletClient?: KubeletClientOptions
}

export interface RunningApiServer {
  url: string
  port: number
  close(): Promise<void>
}

/**
 * An in-memory Kubernetes API server over plain HTTP: discovery, CRUD, list/watch with selectors, patches, Status
 * errors, garbage collection, and pods/portforward proxied to the pod's kubelet. Controllers and the kubelet use it
 * through client-node.
 */
export async function startApiServer(options: ApiServerOptions = {}): Promise<RunningApiServer> {
  const host = options.host ?? '127.0.0.1'
  const log = options.log ?? ((): void => {})
  const store = new Store(options.watchHistory ?? 10_000)
  const registry = new Registry(store)
  const watches = new Set<() => void>()
  const ctx: RequestContext = {
    registry,
    trackWatch(end) {
      watches.add(end)
      return () => watches.delete(end)
    },
  }
  let address = ''
  const server = createServer((req, res) => {
    serve(req, res, ctx, address).catch((error: unknown) => {
      if (error instanceof ApiError) return sendError(res, error)
      log(`apiserver: ${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`)
      if (!res.headersSent) sendError(res, new ApiError(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`))
      else res.destroy()
    })
  })
  // authorize is where the authorization of pods/portforward plugs in (upgrades do not pass through serve()).
  const forwarding = new PortForwardProxy(registry, {kubeletClient: options.kubeletClient ?? {}, authorize: () => {}, log})
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
    url: `http://${address}`,
    port,
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

async function serve(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, address: string): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox')
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
  if (pathname === '/openapi/v3') return get(openApiV3Index())
  if (pathname.startsWith('/openapi/v3/')) return get(openApiV3Document(pathname.slice('/openapi/v3/'.length)))
  const groupPath = /^\/apis\/([^/]+)$/.exec(pathname)
  if (groupPath) return get(apiGroup(groupPath[1]))
  const parsed = parsePath(pathname)
  if (parsed.type === 'groupVersion') return get(resourceList(parsed.group, parsed.version))
  if (parsed.type === 'resource') return handleResource(req, res, url, parsed.path, ctx)
  if (pathname.startsWith('/api/') || pathname.startsWith('/apis/')) throw noSuchPath()
  res.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8'})
  res.end('404 page not found\n')
}

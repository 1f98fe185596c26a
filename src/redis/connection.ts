import {X509Certificate} from 'node:crypto'
import {connect as tlsConnect} from 'node:tls'

import {Redis} from 'ioredis'

import {AUTH_HINT, AuthFailedError, isTlsFailure, RedisUnreachableError, TLS_HINT} from '../errors.js'
import {tlsConnectOptions, type ConnectorTls} from '../tls/client.js'
import {addressKey, type NodeAddress} from '../topology/observation.js'

export {addressKey, type NodeAddress} from '../topology/observation.js'

export interface ConnectorOptions {
  /** Redis password (from a Secret or REDISCTL_PASSWORD); never logged. */
  password?: string
  /** Maps a cluster address to the local address that reaches it (port-forward); identity when absent. */
  route?: (addr: NodeAddress) => NodeAddress
  connectTimeoutMs?: number
  commandTimeoutMs?: number
  /** The cluster serves TLS: verify every node against the CA and its pod's DNS name (src/tls/client.ts). */
  tls?: ConnectorTls
}

/**
 * One admin connection per node, opened on first use and reused. Admin work wants plain RESP2 replies,
 * no offline queue and a bounded retry so that an unreachable node fails fast with a typed error.
 */
export class RedisConnector {
  private readonly clients = new Map<string, Redis>()
  /** Connections being opened: concurrent callers share one, or the extra clients would leak and keep the process alive. */
  private readonly connecting = new Map<string, Promise<Redis>>()

  constructor(private readonly options: ConnectorOptions = {}) {}

  /** The password that node-to-node commands carry (MIGRATE ... AUTH); never log it. */
  get password(): string | undefined {
    return this.options.password
  }

  /** A connected client for the node, or a RedisUnreachableError / AuthFailedError. */
  async client(addr: NodeAddress): Promise<Redis> {
    const key = addressKey(addr)
    const existing = this.clients.get(key)
    if (existing && existing.status === 'ready') return existing
    const pending = this.connecting.get(key)
    if (pending) return pending
    if (existing) {
      existing.disconnect()
      this.clients.delete(key)
    }
    const connecting = this.connect(addr).finally(() => this.connecting.delete(key))
    this.connecting.set(key, connecting)
    return connecting
  }

  private async connect(addr: NodeAddress): Promise<Redis> {
    const target = this.options.route ? this.options.route(addr) : addr
    const client = new Redis({
      host: target.host,
      port: target.port,
      password: this.options.password,
      protocol: 2,
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      connectTimeout: this.options.connectTimeoutMs ?? 3000,
      commandTimeout: this.options.commandTimeoutMs,
      retryStrategy: () => null,
      ...(this.options.tls ? {tls: tlsConnectOptions(this.options.tls, addr)} : {}),
    })
    // A refused AUTH during connect arrives only as an 'error' event and the next command just sees a closed
    // connection, so the event is kept to tell a wrong password from an unreachable node.
    let lastError: unknown
    client.on('error', (error: unknown) => {
      lastError = error
    })
    try {
      await client.connect()
      await client.ping()
    } catch (error) {
      client.disconnect()
      throw connectionError(addr, isAuthError(lastError) ? lastError : error)
    }
    this.clients.set(addressKey(addr), client)
    return client
  }

  /**
   * The certificate a TLS node shows a new connection now (undefined without TLS): what it serves after a reload,
   * which the admin connection, opened before, cannot tell.
   */
  async peerCertificate(addr: NodeAddress): Promise<X509Certificate | undefined> {
    if (!this.options.tls) return undefined
    const target = this.options.route ? this.options.route(addr) : addr
    const socket = tlsConnect({host: target.host, port: target.port, ...tlsConnectOptions(this.options.tls, addr), timeout: this.options.connectTimeoutMs ?? 3000})
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', resolve)
        socket.once('error', reject)
        socket.once('timeout', () => reject(new Error('TLS handshake timed out')))
      })
      return socket.getPeerX509Certificate()
    } catch (error) {
      throw connectionError(addr, error)
    } finally {
      socket.destroy()
    }
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled(this.connecting.values())
    const clients = [...this.clients.values()]
    this.clients.clear()
    await Promise.all(clients.map(async (c) => {
      try {
        await c.quit()
      } catch {
        c.disconnect()
      }
    }))
  }
}

const AUTH_FAILURE = /WRONGPASS|NOAUTH|invalid password|AUTH.*without any password/i

const isAuthError = (error: unknown): boolean => error instanceof Error && AUTH_FAILURE.test(error.message)

export function connectionError(addr: NodeAddress, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error)
  if (AUTH_FAILURE.test(message)) {
    const what = /NOAUTH/.test(message) ? 'requires a password, and none was given' :
      /without any password/i.test(message) ? 'has no password, but one was given' : 'refused the password'
    return new AuthFailedError(`Redis at ${addressKey(addr)} ${what} (${firstLine(message)}).`, [AUTH_HINT])
  }
  return new RedisUnreachableError(`Redis at ${addressKey(addr)} did not answer: ${firstLine(message).replace(/\.+$/, '')}.`, [
    ...(isTlsFailure(message) ? [TLS_HINT] : []),
    'Check that the pod is Running and Ready (redisctl status, kubectl get pods -o wide).',
    'Outside the cluster network, use --connect port-forward.',
  ], {cause: error})
}

const firstLine = (s: string): string => s.split('\n')[0]

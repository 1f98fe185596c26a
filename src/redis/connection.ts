import {X509Certificate} from 'node:crypto'
import {connect as tlsConnect} from 'node:tls'

import {Redis} from 'ioredis'

import {AUTH_HINT, AuthFailedError, isTlsFailure, RedisUnreachableError, TLS_HINT} from '../errors.js'
import {tlsConnectOptions, type ConnectorTls} from '../tls/client.js'
import {addressKey, describeNode, type NodeAddress} from '../topology/observation.js'
import {REDIS_TIMEOUTS} from '../util/call-bounds.js'
import type {Credentials} from './credentials.js'

export {addressKey, type NodeAddress} from '../topology/observation.js'

/** Which connection a command goes on: admin work, or slot migration with its larger bound. */
export type ConnectionUse = 'admin' | 'migration'

export interface ConnectorOptions {
  /** From a Secret, REDISCTL_PASSWORD or an ACL cluster's admin Secret; never logged. */
  credentials?: Credentials
  /** Maps a cluster address to the local address that reaches it (port-forward); identity when absent. */
  route?: (addr: NodeAddress) => NodeAddress
  connectTimeoutMs?: number
  /** Bound of each admin command; REDIS_TIMEOUTS.commandMs when absent. */
  commandTimeoutMs?: number
  /** The command's stop signal (Ctrl-C, SIGTERM): long work on these connections stops between batches. */
  signal?: AbortSignal
  /** The cluster serves TLS: verify every node against the CA and its pod's DNS name (src/tls/client.ts). */
  tls?: ConnectorTls
}

/**
 * One admin connection per node, opened on first use and reused, and one more per node for slot migration.
 * Admin work wants plain RESP2 replies, no offline queue, no reconnection and a bound on every command, so that
 * an unreachable or silent node fails fast with a typed error.
 */
export class RedisConnector {
  private readonly clients = new Map<string, Redis>()
  /** Connections being opened: concurrent callers share one, or the extra clients would leak and keep the process alive. */
  private readonly connecting = new Map<string, Promise<Redis>>()
  /** Their clients, which closeAll drops at once: a node that took the connection and says nothing would hold the exit. */
  private readonly opening = new Set<Redis>()

  constructor(private readonly options: ConnectorOptions = {}) {}

  /** What node-to-node commands carry (MIGRATE ... AUTH or AUTH2); never log it. */
  get credentials(): Credentials | undefined {
    return this.options.credentials
  }

  /** The bound of each admin command, for saying how long a silent node was given. */
  get commandTimeoutMs(): number {
    return this.options.commandTimeoutMs ?? REDIS_TIMEOUTS.commandMs
  }

  /** The command's stop signal, for the waits and moves that run over these connections. */
  get signal(): AbortSignal | undefined {
    return this.options.signal
  }

  /** A connected client for the node, or a RedisUnreachableError / AuthFailedError. */
  async client(addr: NodeAddress, use: ConnectionUse = 'admin'): Promise<Redis> {
    const key = `${use} ${addressKey(addr)}`
    const existing = this.clients.get(key)
    if (existing && existing.status === 'ready') return existing
    const pending = this.connecting.get(key)
    if (pending) return pending
    if (existing) {
      existing.disconnect()
      this.clients.delete(key)
    }
    const connecting = this.connect(addr, use, key).finally(() => this.connecting.delete(key))
    this.connecting.set(key, connecting)
    return connecting
  }

  private async connect(addr: NodeAddress, use: ConnectionUse, key: string): Promise<Redis> {
    const target = this.options.route ? this.options.route(addr) : addr
    const commandTimeout = use === 'migration' ? REDIS_TIMEOUTS.migrationMs : this.commandTimeoutMs
    const connectTimeout = Math.min(this.options.connectTimeoutMs ?? REDIS_TIMEOUTS.connectMs, commandTimeout)
    const client = new Redis({
      host: target.host,
      port: target.port,
      username: this.options.credentials?.username,
      password: this.options.credentials?.password,
      protocol: 2,
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      // CLIENT SETINFO on connect: a round trip that Redis 7.0 refuses anyway, and one more command timeout to
      // wait out before a silent node is called so.
      disableClientInfo: true,
      maxRetriesPerRequest: 0,
      connectTimeout,
      commandTimeout,
      retryStrategy: () => null,
      // How long closing waits for the node to close its side too: a live node does at once, a stopped one never
      // (ioredis's 2 s would be added to every command that met one).
      disconnectTimeout: 100,
      ...(this.options.tls ? {tls: tlsConnectOptions(this.options.tls, addr)} : {}),
    })
    // A refused AUTH during connect arrives only as an 'error' event and the next command just sees a closed
    // connection, so the event is kept to tell a wrong password from an unreachable node.
    let lastError: unknown
    client.on('error', (error: unknown) => {
      lastError = error
    })
    this.opening.add(client)
    try {
      await client.connect()
      await client.ping()
    } catch (error) {
      client.disconnect()
      // Without reconnection, a connect timeout rejects connect() with "Connection is closed"; the event says why.
      const cause = isAuthError(lastError) || TIMED_OUT.test(String(lastError)) ? lastError : error
      throw connectionError(addr, cause, /ETIMEDOUT/.test(String(cause)) ? connectTimeout : commandTimeout, this.options.credentials?.source)
    } finally {
      this.opening.delete(client)
    }
    this.clients.set(key, client)
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
    for (const client of this.opening) client.disconnect()
    await Promise.allSettled(this.connecting.values())
    const clients = [...this.clients.values()]
    this.clients.clear()
    await Promise.all(clients.map(async (c) => {
      // QUIT is polite, but a node that stopped answering would hold the exit for a whole command timeout.
      const impatient = setTimeout(() => c.disconnect(), QUIT_WAIT_MS)
      try {
        await c.quit()
      } catch {
        c.disconnect()
      } finally {
        clearTimeout(impatient)
      }
    }))
  }
}

const AUTH_FAILURE = /WRONGPASS|NOAUTH|invalid password|AUTH.*without any password/i

const QUIT_WAIT_MS = 1000

/** ioredis's words for a command past commandTimeout, and for a connect past connectTimeout. */
const TIMED_OUT = /Command timed out|ETIMEDOUT/

const isAuthError = (error: unknown): boolean => error instanceof Error && AUTH_FAILURE.test(error.message)

/**
 * A failure to reach a node as a typed error naming it. `timeoutMs` is the bound the client had (ioredis's own
 * message does not say), for "did not answer within N s"; `credentialSource` says where a refused password came from.
 */
export function connectionError(addr: NodeAddress, error: unknown, timeoutMs?: number, credentialSource?: string): Error {
  const message = error instanceof Error ? error.message : String(error)
  if (AUTH_FAILURE.test(message)) {
    const what = /NOAUTH/.test(message) ? 'requires a password, and none was given' :
      /without any password/i.test(message) ? 'has no password, but one was given' : 'refused the password'
    const from = credentialSource && !/NOAUTH/.test(message) ? `, which came from ${credentialSource}` : ''
    return new AuthFailedError(`${describeNode(addr)} ${what}${from} (${firstLine(message)}).`, [AUTH_HINT])
  }
  if (timeoutMs !== undefined && TIMED_OUT.test(message)) return silentNodeError(addr, timeoutMs, error)
  return new RedisUnreachableError(`${describeNode(addr)} did not answer: ${firstLine(message).replace(/\.+$/, '')}.`, [
    ...(isTlsFailure(message) ? [TLS_HINT] : []),
    ...UNREACHABLE_HINTS,
  ], {cause: error})
}

/** A node that took the connection and said nothing within `timeoutMs` (its own bound, or the command's). */
export function silentNodeError(addr: NodeAddress, timeoutMs: number, cause?: unknown): RedisUnreachableError {
  return new RedisUnreachableError(`${describeNode(addr)} did not answer within ${timeoutMs / 1000} s.`, UNREACHABLE_HINTS, {cause})
}

const UNREACHABLE_HINTS = [
  'Check that the pod is Running and Ready (redisctl status, kubectl get pods -o wide).',
  'Outside the cluster network, use --connect port-forward.',
]

const firstLine = (s: string): string => s.split('\n')[0]

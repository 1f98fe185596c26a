import {readFile} from 'node:fs/promises'
import {checkServerIdentity, type ConnectionOptions} from 'node:tls'
import {isIP} from 'node:net'

import {NotFoundError, UsageError} from '../errors.js'
import {notFoundIn, type Kube} from '../kube/context.js'
import {readSecret} from '../kube/secrets.js'
import {secretValue} from '../manifests/secret.js'

/**
 * What redisctl needs to talk TLS to a cluster: the CA that signed the nodes' certificates and, for nodes that ask
 * every client for a certificate (Redis's tls-auth-clients, on by default), a certificate and key to show. The key
 * lives in this process's memory only: never printed, logged, or handed to a child process.
 */
export interface TlsMaterial {
  ca: string
  cert?: string
  key?: string
  /** Where it came from, for messages: `Secret redis-cluster-tls`, `file ca.pem`. */
  source: string
}

/** TLS for a connector: the material, and the DNS name each node is verified by (its pod's), when it has one. */
export interface ConnectorTls extends TlsMaterial {
  serverName(addr: {host: string; port: number}): string | undefined
}

/**
 * Node's TLS options for one node: the connection goes to the address (a pod IP, or a port-forward's local port),
 * the chain is verified against the CA, and the certificate must name the pod's DNS name (else the address itself).
 */
export function tlsConnectOptions(tls: ConnectorTls, addr: {host: string; port: number}): ConnectionOptions {
  const name = tls.serverName(addr)
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    // SNI carries DNS names only (RFC 6066); a node known by its IP alone is verified against its IP SANs.
    ...(name && !isIP(name) ? {servername: name} : {}),
    checkServerIdentity: (_host, cert) => checkServerIdentity(name ?? addr.host, cert),
  }
}

/**
 * The cluster's TLS from a Secret in cert-manager's layout: ca.crt is required; tls.crt and tls.key, when present,
 * are the certificate redisctl shows the nodes.
 */
export async function readTlsSecret(kube: Kube, name: string): Promise<TlsMaterial> {
  const secret = await readSecret(kube, name)
  if (!secret) {
    throw await notFoundIn(kube, new NotFoundError(`The TLS Secret "${name}" does not exist in namespace ${kube.namespace}.`, [
      `Create it with the keys ca.crt (and tls.crt, tls.key for a client certificate): kubectl -n ${kube.namespace} create secret generic ${name} --from-file=ca.crt=...`,
    ]))
  }
  const value = (key: string): string | undefined => secretValue(secret, key) || undefined
  const ca = value('ca.crt')
  if (!ca) {
    throw new UsageError(`The Secret "${name}" has no key "ca.crt": redisctl cannot verify the nodes without the CA that signed their certificates.`, [
      'Give a Secret in cert-manager\'s layout (ca.crt, tls.crt, tls.key), or the CA as a file: --tls-ca-file PATH.',
    ])
  }
  const cert = value('tls.crt')
  const key = value('tls.key')
  return {ca, ...(cert && key ? {cert, key} : {}), source: `Secret ${name}`}
}

export async function readCaFile(path: string): Promise<TlsMaterial> {
  let ca: string
  try {
    ca = await readFile(path, 'utf8')
  } catch (error) {
    throw new UsageError(`Cannot read the CA file ${path}: ${(error as Error).message}.`, ['--tls-ca-file names a PEM file holding the CA certificate that signed the nodes\' certificates.'])
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${path} holds no PEM certificate.`, ['--tls-ca-file names a PEM file holding the CA certificate.'])
  return {ca, source: `file ${path}`}
}

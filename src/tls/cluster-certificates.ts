import type {V1Secret} from '@kubernetes/client-node'

import {clusterDnsNames} from '../manifests/cluster.js'
import {clusterSecret} from '../manifests/secret.js'
import type {PemKeyPair} from './certificates.js'

/** The Secret whose certificates the pods serve, in cert-manager's layout: tls.crt, tls.key, ca.crt. */
export const tlsSecretName = (name: string): string => `${name}-tls`
/** The Secret holding the CA redisctl made (tls.crt, tls.key, as cert-manager's CA issuer reads it); never mounted. */
export const caSecretName = (name: string): string => `${name}-tls-ca`

/** A node certificate's life: one year, renewed by `redisctl tls rotate`. */
export const NODE_CERT_DAYS = 365

/**
 * A node certificate for every pod of the cluster, signed by the CA. It is used as a server (clients, bus peers) and
 * as a client (the bus, replication and MIGRATE connect with it, since tls-auth-clients asks every peer for one).
 */
export async function issueNodeCertificate(ca: PemKeyPair, name: string, namespace: string, validityDays = NODE_CERT_DAYS): Promise<PemKeyPair> {
  const {issueCertificate} = await import('./certificates.js')
  return issueCertificate(ca, {commonName: `${name}.${namespace}`, dnsNames: clusterDnsNames(name, namespace), usages: ['server', 'client'], validityDays})
}

export async function createClusterCa(name: string, namespace: string): Promise<PemKeyPair> {
  const {createCertificateAuthority} = await import('./certificates.js')
  return createCertificateAuthority(`redisctl ${name}.${namespace} CA`)
}

export function tlsSecret(name: string, namespace: string, secretName: string, ca: string, node: PemKeyPair): V1Secret {
  return secret(secretName, name, namespace, {'tls.crt': node.cert, 'tls.key': node.key, 'ca.crt': ca})
}

export function caSecret(name: string, namespace: string, ca: PemKeyPair): V1Secret {
  return secret(caSecretName(name), name, namespace, {'tls.crt': ca.cert, 'tls.key': ca.key})
}

const secret = (secretName: string, name: string, namespace: string, data: Record<string, string>): V1Secret =>
  clusterSecret(name, namespace, secretName, 'kubernetes.io/tls', data)

import {stringify} from 'yaml'

export const SANDBOX_CONTEXT = 'redisctl-sandbox'

/** Where the sandbox's API server is, and the certificate it serves (self-signed: it is its own CA). */
export interface SandboxEndpoint {
  server: string
  ca: string
}

export interface SandboxCredentials {
  /** A bearer token the sandbox's API server knows. */
  token: string
  /** The kubeconfig's name for the user and the context; the admin's is SANDBOX_CONTEXT. */
  context?: string
  namespace?: string
}

/** A kubeconfig that trusts the sandbox's certificate and presents a bearer token (kubectl sends one only over TLS). */
export function sandboxKubeconfig(endpoint: SandboxEndpoint, credentials: SandboxCredentials): string {
  const context = credentials.context ?? SANDBOX_CONTEXT
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{name: SANDBOX_CONTEXT, cluster: {server: endpoint.server, 'certificate-authority-data': Buffer.from(endpoint.ca).toString('base64')}}],
    users: [{name: context, user: {token: credentials.token}}],
    contexts: [{name: context, context: {cluster: SANDBOX_CONTEXT, user: context, namespace: credentials.namespace ?? 'default'}}],
    'current-context': context,
  })
}

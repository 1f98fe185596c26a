import {stringify} from 'yaml'

export const SANDBOX_CONTEXT = 'redisctl-sandbox'

/** A kubeconfig for the sandbox's plain-HTTP API server (it has no authentication: it listens on loopback only). */
export function sandboxKubeconfig(server: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses plain HTTP unless the cluster entry says so; the sandbox listens on loopback only.
    clusters: [{name: SANDBOX_CONTEXT, cluster: {server, 'insecure-skip-tls-verify': true}}],
    users: [{name: SANDBOX_CONTEXT, user: {}}],
    contexts: [{name: SANDBOX_CONTEXT, context: {cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT, namespace: 'default'}}],
    'current-context': SANDBOX_CONTEXT,
  })
}

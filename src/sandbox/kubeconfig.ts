import {stringify} from 'yaml'

export const SANDBOX_CONTEXT = 'redisctl-sandbox'

/** A kubeconfig for the sandbox's plain-HTTP API server (it has no authentication: it listens on loopback only). */
export function sandboxKubeconfig(server: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{name: SANDBOX_CONTEXT, cluster: {server}}],
    users: [{name: SANDBOX_CONTEXT, user: {}}],
    contexts: [{name: SANDBOX_CONTEXT, context: {cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT, namespace: 'default'}}],
    'current-context': SANDBOX_CONTEXT,
  })
}

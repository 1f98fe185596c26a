import {chmod, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {CoreV1Api, KubeConfig} from '@kubernetes/client-node'

import {PreconditionError, UsageError} from '../errors.js'
import {isConflict, kubeCall} from '../kube/api-errors.js'
import {SANDBOX_CONTEXT, sandboxKubeconfig} from './kubeconfig.js'
import {isAlive, readState} from './state.js'

export interface ServiceAccountOptions {
  namespace: string
  serviceAccount: string
  /** Default: kubeconfig-NAMESPACE-NAME in the sandbox's folder. */
  output?: string
  expirationSeconds: number
}

export interface ServiceAccountKubeconfig {
  kubeconfig: string
  namespace: string
  serviceAccount: string
  /** The user the API server sees. */
  user: string
  expiresAt: string
  namespaceCreated: boolean
  serviceAccountCreated: boolean
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/**
 * A kubeconfig that acts as a ServiceAccount of the running sandbox, as a CI job would: the namespace and the
 * ServiceAccount are created when missing, and a token is requested for it. It is given no rights here; binding a
 * Role is the user's step (redisctl rbac prints one).
 */
export async function writeServiceAccountKubeconfig(dir: string, options: ServiceAccountOptions): Promise<ServiceAccountKubeconfig> {
  const {namespace, serviceAccount} = options
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) throw new UsageError(`"${namespace}" is not a valid namespace name (lower-case letters, digits and '-', at most 63).`)
  if (!DNS_SUBDOMAIN.test(serviceAccount) || serviceAccount.length > 253) throw new UsageError(`"${serviceAccount}" is not a valid ServiceAccount name (lower-case letters, digits, '-' and '.').`)
  const state = await readState(dir)
  if (!state || !isAlive(state.pid)) {
    throw new PreconditionError(`The sandbox in ${dir} is not running.`, ['Start it first: redisctl sandbox up'])
  }
  const admin = new KubeConfig()
  admin.loadFromFile(state.kubeconfig)
  const core = admin.makeApiClient(CoreV1Api)
  const call = <T>(doing: string, request: () => Promise<T>): Promise<T> => kubeCall(doing, request, state.server)
  const created = async (doing: string, request: () => Promise<unknown>): Promise<boolean> =>
    call(doing, async () => {
      try {
        await request()
        return true
      } catch (error) {
        if (isConflict(error)) return false
        throw error
      }
    })
  const namespaceCreated = await created(`creating namespace ${namespace}`, () => core.createNamespace({body: {metadata: {name: namespace}}}))
  const serviceAccountCreated = await created(`creating ServiceAccount ${serviceAccount}`,
    () => core.createNamespacedServiceAccount({namespace, body: {metadata: {name: serviceAccount, namespace}}}))
  const request = await call(`requesting a token for ServiceAccount ${serviceAccount}`, () => core.createNamespacedServiceAccountToken({
    name: serviceAccount, namespace, body: {spec: {audiences: [], expirationSeconds: options.expirationSeconds}},
  }))
  const {token, expirationTimestamp} = request.status ?? {}
  if (!token || !expirationTimestamp) throw new PreconditionError(`The sandbox answered the token request for ${serviceAccount} without a token.`)
  const cluster = admin.getCurrentCluster()!
  const file = options.output ?? join(dir, `kubeconfig-${namespace}-${serviceAccount}`)
  await writeFile(file, sandboxKubeconfig({server: cluster.server, ca: Buffer.from(cluster.caData ?? '', 'base64').toString('utf8')},
    {token, context: `${SANDBOX_CONTEXT}-${namespace}-${serviceAccount}`, namespace}), {mode: 0o600})
  // The file may have existed with wider permissions; it holds a bearer token.
  await chmod(file, 0o600)
  return {
    kubeconfig: file, namespace, serviceAccount, user: `system:serviceaccount:${namespace}:${serviceAccount}`,
    expiresAt: new Date(expirationTimestamp).toISOString(), namespaceCreated, serviceAccountCreated,
  }
}

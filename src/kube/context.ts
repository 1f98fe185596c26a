import {existsSync} from 'node:fs'
import {delimiter} from 'node:path'

import {AppsV1Api, type Configuration, CoreV1Api, createConfiguration, KubeConfig, KubernetesObjectApi, PolicyV1Api,
  ServerConfiguration} from '@kubernetes/client-node'

import {NotFoundError, type RedisctlError} from '../errors.js'
import {deadlineSignal, KUBE_REQUEST_TIMEOUT_MS} from '../util/call-bounds.js'
import {Warnings} from '../util/warnings.js'
import {httpStatus, kubeCall, kubeFind, namespaceNotFound} from './api-errors.js'

export interface KubeTarget {
  kubeconfig?: string
  context?: string
  namespace?: string
  /** The command's stop signal (Ctrl-C, SIGTERM): requests in flight are abandoned, waits end. */
  signal?: AbortSignal
  /** How long one API request may take; default KUBE_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number
}

/** A Kubernetes client bound to one context and namespace. */
export interface Kube {
  kc: KubeConfig
  namespace: string
  server: string
  core: CoreV1Api
  apps: AppsV1Api
  policy: PolicyV1Api
  objects: KubernetesObjectApi
  /** Another API group's client, with the same deadline and stop signal on every request. */
  api<T>(type: new (configuration: Configuration) => T): T
  /** The command's stop signal, for waits on the API. */
  signal?: AbortSignal
  /** Runs an API call, turning its failure into a typed error that names the server. */
  call<T>(doing: string, call: () => Promise<T>): Promise<T>
  /** Like call, but an object that does not exist is undefined (reads, and deletes of what is already gone). */
  find<T>(doing: string, call: () => Promise<T>): Promise<T | undefined>
  /** What this command should tell the user once, e.g. that zones are unknown. */
  warnings: Warnings
  /** How many requests that may change something (any but a GET) this client has sent: what was read before may be stale. */
  readonly writes: number
}

export function loadKubeConfig(target: KubeTarget): KubeConfig {
  const kc = new KubeConfig()
  // --kubeconfig, else $KUBECONFIG (a list, as kubectl reads it), else ~/.kube/config: a file named but missing or
  // unreadable is the user's to fix, said the same way whichever way it was named.
  const env = process.env.KUBECONFIG?.split(delimiter).filter(Boolean) ?? []
  const files = target.kubeconfig ? [target.kubeconfig] : env
  const named = target.kubeconfig ? `The kubeconfig file ${target.kubeconfig}` : `The kubeconfig ${files.join(delimiter)} (from $KUBECONFIG)`
  const fix = ['Pass the path of an existing kubeconfig with --kubeconfig or KUBECONFIG, or start the sandbox: redisctl sandbox up.']
  if (files.length > 0 && !files.some((f) => existsSync(f))) throw new NotFoundError(`${named} does not exist.`, fix)
  try {
    if (target.kubeconfig) kc.loadFromFile(target.kubeconfig)
    else kc.loadFromDefault()
  } catch (error) {
    throw new NotFoundError(`${named} is not a kubeconfig redisctl can read: ${error instanceof Error ? error.message : String(error)}.`, fix)
  }
  if (target.context) {
    if (!kc.getContextObject(target.context)) {
      const known = kc.getContexts().map((c) => c.name)
      throw new NotFoundError(`The context "${target.context}" is not in the kubeconfig.`, [
        known.length > 0 ? `Known contexts: ${known.join(', ')}.` : 'The kubeconfig has no contexts.',
      ])
    }
    kc.setCurrentContext(target.context)
  }
  const current = kc.getCurrentCluster()
  if (!current) {
    throw new NotFoundError('No Kubernetes cluster is configured (no kubeconfig, or its current context names no cluster).', [
      'Set KUBECONFIG or pass --kubeconfig; to try redisctl locally: redisctl sandbox up, then export the KUBECONFIG it prints.',
    ])
  }
  // kubectl talks plain HTTP to an http:// server as written; client-node refuses unless the cluster is marked
  // insecure-skip-tls-verify, which means nothing without TLS. So the same kubeconfig works for both.
  if (current.server.startsWith('http:') && !current.skipTLSVerify) {
    kc.clusters = kc.clusters.map((c) => (c === current ? {...c, skipTLSVerify: true} : c))
  }
  return kc
}

export function connectKube(target: KubeTarget): Kube {
  const kc = loadKubeConfig(target)
  const server = kc.getCurrentCluster()?.server ?? ''
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace
  const sent = {writes: 0}
  const configuration = withDeadline(kc, server, target.requestTimeoutMs ?? KUBE_REQUEST_TIMEOUT_MS, target.signal, sent)
  const api = <T>(type: new (c: Configuration) => T): T => new type(configuration)
  const objects = new ObjectApi(configuration, kc)
  return {
    kc,
    server,
    namespace: target.namespace ?? contextNamespace ?? 'default',
    core: api(CoreV1Api),
    apps: api(AppsV1Api),
    policy: api(PolicyV1Api),
    objects,
    api,
    signal: target.signal,
    call: (doing, call) => kubeCall(doing, call, server),
    find: (doing, call) => kubeFind(doing, call, server),
    warnings: new Warnings(),
    get writes() {
      return sent.writes
    },
  }
}

/** KubernetesObjectApi.makeApiClient, on the configuration with the deadline. */
class ObjectApi extends KubernetesObjectApi {
  constructor(configuration: Configuration, kc: KubeConfig) {
    super(configuration)
    this.setDefaultNamespace(kc)
  }
}

/**
 * What KubeConfig.makeApiClient builds, plus a middleware giving every request a deadline and the command's stop
 * signal (client-node passes the request's signal to fetch), and counting in `sent` the requests that may write. A
 * request past its deadline, or the command's (status --timeout), fails with DeadlinePassed.
 */
function withDeadline(kc: KubeConfig, server: string, timeoutMs: number, stop: AbortSignal | undefined, sent: {writes: number}): Configuration {
  return createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    authMethods: {default: kc},
    promiseMiddleware: [{
      pre: async (request) => {
        if (request.getHttpMethod() !== 'GET') sent.writes++
        const deadline = deadlineSignal(timeoutMs)
        request.setSignal(stop ? AbortSignal.any([stop, deadline]) : deadline)
        return request
      },
      post: async (response) => response,
    }],
  })
}

/**
 * Whether the namespace is missing, asked only after a namespaced call found nothing (listing pods in a namespace
 * that does not exist answers an empty list). Reading a Namespace is a cluster-scoped right a namespace-bound
 * user lacks: what cannot be read is not taken for missing.
 */
export async function namespaceIsMissing(kube: Kube): Promise<boolean> {
  try {
    await kube.core.readNamespace({name: kube.namespace})
    return false
  } catch (error) {
    return httpStatus(error) === 404
  }
}

/** Why a namespaced call found nothing: the namespace is missing, else `otherwise`. */
export async function notFoundIn(kube: Kube, otherwise: RedisctlError): Promise<RedisctlError> {
  return (await namespaceIsMissing(kube)) ? namespaceNotFound(kube.namespace) : otherwise
}

import {ApiException} from '@kubernetes/client-node'

import {ForbiddenError, KubeUnreachableError, NotFoundError, PreconditionError, RedisctlError, UnauthorizedError} from '../errors.js'
import {DeadlinePassed} from '../util/call-bounds.js'
import {describePermission, type Permission, type Verb} from './permissions.js'

/** The HTTP status of a failed Kubernetes API call, or undefined when the API was not reached at all. */
export function httpStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined
}

export const isNotFound = (error: unknown): boolean => httpStatus(error) === 404
export const isConflict = (error: unknown): boolean => httpStatus(error) === 409

interface StatusBody {
  message: string
  details?: {name?: string; kind?: string}
}

/** The Status the API server sent, e.g. the message `pods "x" not found`. */
function statusOf(error: ApiException<unknown>): StatusBody {
  let body: unknown = error.body
  if (typeof body === 'string') {
    const text = body
    try {
      body = JSON.parse(text)
    } catch {
      return {message: text.slice(0, 200)}
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return {...body as StatusBody, message: String((body as {message: unknown}).message)}
  return {message: `HTTP ${error.code}`}
}

export function namespaceNotFound(namespace: string): NotFoundError {
  return new NotFoundError(`The namespace "${namespace}" does not exist.`, [
    `Check -n/--namespace (kubectl get namespaces), or create it: kubectl create namespace ${namespace}.`,
  ])
}

/** `kubectl auth can-i` for one permission, so that the user can check what was refused. */
export const canIHint = (p: Permission, namespace?: string): string =>
  `kubectl auth can-i ${p.verb} ${p.resource}${p.group ? `.${p.group}` : ''}${p.subresource ? ` --subresource=${p.subresource}` : ''}${namespace ? ` -n ${namespace}` : ''}`

/** Where to get the Role every command needs, for any refusal RBAC could lift. */
export const rbacHint = (namespace?: string): string =>
  `redisctl rbac${namespace ? ` -n ${namespace}` : ''} prints the Role every redisctl command needs; an admin applies it with kubectl apply -f -.`

/** apiserver's forbidden message: who may not do what, where (handlers/responsewriters/errors.go). */
const FORBIDDEN = /User "([^"]*)" cannot (\S+) resource "([^"/]+)(?:\/([^"]+))?" in API group "([^"]*)"(?: in the namespace "([^"]+)"| at the cluster scope)/

function forbidden(message: string, doing: string): ForbiddenError {
  const match = FORBIDDEN.exec(message)
  if (!match) return new ForbiddenError(`The Kubernetes API refused ${doing}: ${message}.`, [rbacHint()])
  const [, user, verb, resource, subresource, group, namespace] = match
  const refused: Permission = {verb: verb as Verb, group, resource, ...(subresource ? {subresource} : {})}
  return new ForbiddenError(`The Kubernetes API refused ${doing}: ${user} may not ${describePermission(refused)} ${namespace ? `in namespace ${namespace}` : 'at the cluster scope'}.`, [
    `Grant it with a ${namespace ? 'Role' : 'ClusterRole'} rule {apiGroups: ["${group}"], resources: ["${resource}${subresource ? `/${subresource}` : ''}"], verbs: ["${verb}"]}; ${rbacHint(namespace)}`,
    `Check with: ${canIHint(refused, namespace)}`,
  ])
}

export function unauthorized(doing: string, server?: string): UnauthorizedError {
  return new UnauthorizedError(`The Kubernetes API${server ? ` at ${server}` : ''} rejected the kubeconfig's credentials while ${doing} (401 Unauthorized).`, [
    'A ServiceAccount token expires, and dies with its ServiceAccount: get a new one (kubectl create token NAME -n NAMESPACE; for the sandbox, redisctl sandbox kubeconfig).',
    'kubectl auth whoami shows whom the kubeconfig presents.',
  ])
}

/**
 * Turns whatever a client-node call threw into a typed error that says what to do.
 * `doing` completes "while ..." (e.g. "listing pods in namespace default").
 */
export function kubeError(error: unknown, doing: string, server?: string): RedisctlError {
  if (error instanceof RedisctlError) return error
  if (error instanceof ApiException) {
    const status = statusOf(error)
    const message = status.message
    switch (error.code) {
      case 401: return unauthorized(doing, server)
      case 403: return forbidden(message, doing)
      case 404:
        // What is created in a namespace that does not exist is refused with the namespace as the missing object.
        if (status.details?.kind === 'namespaces' && status.details.name) return namespaceNotFound(status.details.name)
        return new NotFoundError(`Not found while ${doing}: ${message}.`)
      case 409:
        return new PreconditionError(`Conflict while ${doing}: ${message}.`, ['Run the command again: it picks up where it stopped.'])
      default:
        return new KubeUnreachableError(`The Kubernetes API failed while ${doing}: ${message} (HTTP ${error.code}).`)
    }
  }
  if (error instanceof DeadlinePassed) {
    return new KubeUnreachableError(`The Kubernetes API${server ? ` at ${server}` : ''} did not answer within ${error.timeoutMs / 1000} s while ${doing}.`, [
      'Check that the API server is up and not overloaded (kubectl get --raw /readyz), then run the same command again.',
    ], {cause: error})
  }
  const detail = networkDetail(error)
  return new KubeUnreachableError(`The Kubernetes API${server ? ` at ${server}` : ''} is unreachable while ${doing} (${detail}).`, [
    'Check --kubeconfig and --context (kubectl cluster-info).',
    'For the embedded sandbox: redisctl sandbox status, or redisctl sandbox up.',
  ], {cause: error})
}

function networkDetail(error: unknown): string {
  let current: unknown = error
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as {code?: unknown}).code
    if (typeof code === 'string') return code
    current = (current as {cause?: unknown}).cause
  }
  return error instanceof Error ? error.message : String(error)
}

/** Like kubeCall, but an object that does not exist (404) is undefined rather than an error. */
export async function kubeFind<T>(doing: string, call: () => Promise<T>, server?: string): Promise<T | undefined> {
  return kubeCall(doing, async () => {
    try {
      return await call()
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }, server)
}

/** Runs a Kubernetes API call and converts its failure into a typed error. */
export async function kubeCall<T>(doing: string, call: () => Promise<T>, server?: string): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw kubeError(error, doing, server)
  }
}

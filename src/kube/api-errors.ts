import {ApiException} from '@kubernetes/client-node'

import {KubeUnreachableError, NotFoundError, PreconditionError, RedisctlError} from '../errors.js'

/** The HTTP status of a failed Kubernetes API call, or undefined when the API was not reached at all. */
export function httpStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined
}

export const isNotFound = (error: unknown): boolean => httpStatus(error) === 404
export const isConflict = (error: unknown): boolean => httpStatus(error) === 409

/** The Status message the API server sent, e.g. `pods "x" not found`. */
function statusMessage(error: ApiException<unknown>): string {
  const body = error.body
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as {message?: string}
      if (parsed.message) return parsed.message
    } catch {
      return body.slice(0, 200)
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String((body as {message: unknown}).message)
  return `HTTP ${error.code}`
}

/**
 * Turns whatever a client-node call threw into a typed error that says what to do.
 * `doing` completes "while ..." (e.g. "listing pods in namespace default").
 */
export function kubeError(error: unknown, doing: string, server?: string): RedisctlError {
  if (error instanceof RedisctlError) return error
  if (error instanceof ApiException) {
    const message = statusMessage(error)
    switch (error.code) {
      case 401:
      case 403:
        return new KubeUnreachableError(`The Kubernetes API refused ${doing}: ${message}.`, [
          'Check that your kubeconfig user may do this (kubectl auth can-i).',
        ])
      case 404:
        return new NotFoundError(`Not found while ${doing}: ${message}.`)
      case 409:
        return new PreconditionError(`Conflict while ${doing}: ${message}.`, ['Run the command again: it picks up where it stopped.'])
      default:
        return new KubeUnreachableError(`The Kubernetes API failed while ${doing}: ${message} (HTTP ${error.code}).`)
    }
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

import type {RequestAttributes} from './request-info.js'
import {qualifiedKind, qualifiedName, type ResourceType} from './resources.js'

export interface StatusCause {
  reason: string
  message: string
  field: string
}

export interface StatusDetails {
  name?: string
  group?: string
  kind?: string
  uid?: string
  causes?: StatusCause[]
}

/** A meta.k8s.io/v1 Status, the body of every API error and of some successful deletes. */
export interface Status {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure' | 'Success'
  message?: string
  reason?: string
  details?: StatusDetails
  code: number
}

/** An API request that fails with a Status; the HTTP layer writes it as the response. */
export class ApiError extends Error {
  readonly code: number
  readonly reason: string
  readonly details?: StatusDetails

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.reason = reason
    this.details = details
  }

  toStatus(): Status {
    // An error that is not an API status (a proxy that cannot reach a kubelet) has no reason, and the real server omits it.
    return {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, ...(this.reason ? {reason: this.reason} : {}),
      ...(this.details ? {details: this.details} : {}), code: this.code}
  }
}

const resourceDetails = (r: ResourceType, name: string): StatusDetails =>
  ({name, ...(r.group ? {group: r.group} : {}), kind: r.plural})

export const notFound = (r: ResourceType, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualifiedName(r)} "${name}" not found`, resourceDetails(r, name))

export const alreadyExists = (r: ResourceType, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualifiedName(r)} "${name}" already exists`, resourceDetails(r, name))

export const conflict = (r: ResourceType, name: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, resourceDetails(r, name))

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message)

/** 422 with one cause per field error, worded like apimachinery's field.ErrorList. */
export function invalid(r: ResourceType, name: string, causes: StatusCause[]): ApiError {
  const summary = causes.map((c) => `${c.field}: ${c.message}`)
  const message = `${qualifiedKind(r)} "${name}" is invalid: ${summary.length === 1 ? summary[0] : `[${summary.join(', ')}]`}`
  return new ApiError(422, 'Invalid', message, {name, ...(r.group ? {group: r.group} : {}), kind: r.kind, causes})
}

export const required = (field: string, detail: string): StatusCause =>
  ({reason: 'FieldValueRequired', message: `Required value${detail ? `: ${detail}` : ''}`, field})

export const forbidden = (field: string, detail: string): StatusCause =>
  ({reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field})

export const invalidValue = (field: string, value: unknown, detail: string): StatusCause =>
  ({reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field})

export const unsupportedValue = (field: string, value: unknown, supported: string[]): StatusCause =>
  ({reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((v) => `"${v}"`).join(', ')}`, field})

export const gone = (requested: string, oldest: number): ApiError =>
  new ApiError(410, 'Expired', `too old resource version: ${requested} (${oldest})`)

export const methodNotAllowed = (): ApiError =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')

export const noSuchPath = (): ApiError =>
  new ApiError(404, 'NotFound', 'the server could not find the requested resource', {})

export const unsupportedMediaType = (): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`)

export const namespaceTerminating = (r: ResourceType, name: string, namespace: string): ApiError =>
  new ApiError(403, 'Forbidden', `${qualifiedName(r)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, resourceDetails(r, name))

export function success(r: ResourceType, name: string, uid: string): Status {
  return {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: {...resourceDetails(r, name), uid}, code: 200}
}

/** What kube-apiserver answers, in these words, to a bearer token it does not accept. */
export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized')

/**
 * 403 worded as apiserver's responsewriters.Forbidden: who may not do which verb on which resource (or path), where,
 * and the authorizer's reason when it gave one (RBAC names bindings whose role is missing).
 */
export function forbiddenRequest(a: RequestAttributes, user: string, reason: string): ApiError {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  const what = a.isResourceRequest
    ? `User "${user}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope'}`
    : `User "${user}" cannot ${a.verb} path "${a.path}"`
  const detail = reason ? `${what}: ${reason}` : what
  if (!a.isResourceRequest || !a.resource) return new ApiError(403, 'Forbidden', `forbidden: ${detail}`, {})
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource
  return new ApiError(403, 'Forbidden', `${qualified}${a.name ? ` "${a.name}"` : ''} is forbidden: ${detail}`,
    {...(a.name ? {name: a.name} : {}), ...(a.apiGroup ? {group: a.apiGroup} : {}), kind: a.resource})
}

/**
 * What a request asks to do, as kube-apiserver's RequestInfoFactory reads it from the method and the path alone
 * (apiserver/pkg/endpoints/request/requestinfo.go), before it knows whether the resource exists: authorization runs
 * first, so a caller without rights learns nothing about what is served.
 */
export interface RequestAttributes {
  /** get, list, watch, create, update, patch, delete, deletecollection; for non-resource paths the lower-case method. */
  verb: string
  path: string
  isResourceRequest: boolean
  apiGroup: string
  apiVersion: string
  resource: string
  subresource: string
  /** Empty for cluster-scoped requests. `/api/v1/namespaces/x` is in namespace x, as on the real server. */
  namespace: string
  name: string
}

const API_PREFIXES = new Set(['api', 'apis'])
/** Subresources of a namespace, not resources inside it. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize'])
/** Go's strconv.ParseBool, which the watch parameter goes through. */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])

const METHOD_VERBS: Record<string, string> = {POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete'}

export function requestAttributes(method: string, url: URL): RequestAttributes {
  const path = url.pathname
  const attrs: RequestAttributes = {
    verb: method.toLowerCase(), path, isResourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '',
  }
  let parts = path.split('/').filter(Boolean).map(decodeURIComponent)
  if (parts.length < 3 || !API_PREFIXES.has(parts[0])) return attrs
  const grouped = parts[0] === 'apis'
  parts = parts.slice(1)
  if (grouped) {
    if (parts.length < 3) return attrs
    attrs.apiGroup = parts[0]
    parts = parts.slice(1)
  }
  attrs.isResourceRequest = true
  attrs.apiVersion = parts[0]
  parts = parts.slice(1)
  attrs.verb = METHOD_VERBS[method] ?? ''
  if (parts[0] === 'namespaces' && parts.length > 1) {
    attrs.namespace = parts[1]
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2)
  }
  attrs.resource = parts[0] ?? ''
  attrs.name = parts[1] ?? ''
  attrs.subresource = parts[2] ?? ''
  if (!attrs.name && attrs.verb === 'get') {
    attrs.verb = TRUE.has(url.searchParams.get('watch') ?? '') ? 'watch' : 'list'
    // A list or watch of one object by field selector counts as naming it, so resourceNames rules can allow it.
    const byName = (url.searchParams.get('fieldSelector') ?? '').split(',').map((term) => /^metadata\.name==?(.+)$/.exec(term.trim())).find(Boolean)
    if (byName) attrs.name = byName[1]
  }
  if (!attrs.name && attrs.verb === 'delete') attrs.verb = 'deletecollection'
  return attrs
}

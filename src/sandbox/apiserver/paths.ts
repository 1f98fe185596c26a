import {findResource, type ResourceType} from './resources.js'

/** A request path into the resource API: `/api/v1/namespaces/ns/pods/name/status` and its shorter forms. */
export interface ResourcePath {
  resource: ResourceType
  namespace?: string
  name?: string
  subresource?: string
}

export type ParsedPath =
  | {type: 'resource'; path: ResourcePath}
  | {type: 'groupVersion'; group: string; version: string}
  | {type: 'unknown'}

export function parsePath(pathname: string): ParsedPath {
  const segments = pathname.split('/').filter(Boolean).map(decodeURIComponent)
  let group: string
  let version: string
  let rest: string[]
  if (segments[0] === 'api' && segments.length >= 2) {
    ;[group, version, rest] = ['', segments[1], segments.slice(2)]
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    ;[group, version, rest] = [segments[1], segments[2], segments.slice(3)]
  } else {
    return {type: 'unknown'}
  }
  if (rest.length === 0) return {type: 'groupVersion', group, version}
  let namespace: string | undefined
  // `namespaces/x/pods` is pods in x; `namespaces/x` and `namespaces/x/status` are the namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3 && findResource(group, version, rest[2])?.namespaced) {
    namespace = rest[1]
    rest = rest.slice(2)
  }
  const resource = findResource(group, version, rest[0])
  if (!resource || rest.length > 3 || (resource.namespaced && namespace === undefined && rest.length > 1)) return {type: 'unknown'}
  const subresource = rest[2]
  if (subresource !== undefined && !resource.subresources.includes(subresource)) return {type: 'unknown'}
  return {type: 'resource', path: {resource, namespace, name: rest[1], subresource}}
}

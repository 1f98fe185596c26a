import {GROUP_VERSIONS, RESOURCES, type ResourceType} from './resources.js'

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

/** The Kubernetes version this server answers to; kubectl 1.32 is within its skew policy. */
export const VERSION_INFO = {
  major: '1', minor: '32', gitVersion: 'v1.32.0', gitCommit: 'redisctl-sandbox', gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z', goVersion: 'go1.23.3', compiler: 'gc', platform: 'linux/amd64',
}

export function apiVersions(serverAddress: string): object {
  return {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress}]}
}

function group(name: string): object {
  const versions = GROUP_VERSIONS.filter((g) => g.group === name).map((g) => ({groupVersion: `${g.group}/${g.version}`, version: g.version}))
  return {name, versions, preferredVersion: versions[0]}
}

export const namedGroups = (): string[] => [...new Set(GROUP_VERSIONS.map((g) => g.group).filter(Boolean))]

export function apiGroupList(): object {
  return {kind: 'APIGroupList', apiVersion: 'v1', groups: namedGroups().map(group)}
}

export function apiGroup(name: string): object | undefined {
  return namedGroups().includes(name) ? {kind: 'APIGroup', apiVersion: 'v1', ...group(name)} : undefined
}

function subresourceEntry(r: ResourceType, sub: string): object {
  const base = {name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced}
  switch (sub) {
    case 'status': return {...base, kind: r.kind, verbs: ['get', 'patch', 'update']}
    case 'scale': return {...base, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update']}
    case 'binding': return {...base, kind: 'Binding', verbs: ['create']}
    case 'portforward': return {...base, kind: 'PodPortForwardOptions', verbs: ['create', 'get']}
    case 'token': return {...base, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create']}
    default: return {...base, kind: r.kind, verbs: ['get']}
  }
}

export function resourceList(groupName: string, version: string): object | undefined {
  if (!GROUP_VERSIONS.some((g) => g.group === groupName && g.version === version)) return undefined
  const resources = RESOURCES.filter((r) => r.group === groupName && r.version === version).flatMap((r) => [
    {name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs ?? VERBS,
      ...(r.shortNames.length ? {shortNames: r.shortNames} : {}), ...(r.categories ? {categories: r.categories} : {})},
    ...r.subresources.map((sub) => subresourceEntry(r, sub)),
  ])
  return {kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupName ? `${groupName}/${version}` : version, resources}
}

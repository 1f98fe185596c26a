import type {V1ConfigMap, V1Container, V1Pod, V1Secret} from '@kubernetes/client-node'

import {expand} from './expand.js'

/** ConfigMaps and Secrets of the pod's namespace, fetched beforehand; undefined means "not found". */
export interface ObjectSources {
  configMaps: ReadonlyMap<string, V1ConfigMap | undefined>
  secrets: ReadonlyMap<string, V1Secret | undefined>
}

/** Facts about the running pod that fieldRef reads but the pod object may not carry yet. */
export interface PodFacts {
  podIp: string
  hostIp: string
}

export type EnvResult = {ok: true; env: Map<string, string>} | {ok: false; message: string}

/** The ConfigMaps and Secrets a container's environment refers to, to fetch before resolving it. */
export function envReferences(container: V1Container): {configMaps: string[]; secrets: string[]} {
  const configMaps = new Set<string>()
  const secrets = new Set<string>()
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef?.name) configMaps.add(from.configMapRef.name)
    if (from.secretRef?.name) secrets.add(from.secretRef.name)
  }
  for (const variable of container.env ?? []) {
    if (variable.valueFrom?.configMapKeyRef?.name) configMaps.add(variable.valueFrom.configMapKeyRef.name)
    if (variable.valueFrom?.secretKeyRef?.name) secrets.add(variable.valueFrom.secretKeyRef.name)
  }
  return {configMaps: [...configMaps], secrets: [...secrets]}
}

/**
 * A container's environment as the kubelet builds it: envFrom sources first, then env entries in order,
 * each `value` expanded against the variables defined before it. A missing required source is an error the
 * kubelet reports as CreateContainerConfigError and retries.
 */
export function resolveEnv(pod: V1Pod, container: V1Container, facts: PodFacts, sources: ObjectSources): EnvResult {
  const env = new Map<string, string>()
  try {
    for (const from of container.envFrom ?? []) {
      const prefix = from.prefix ?? ''
      if (from.configMapRef) {
        const data = configMapData(sources, from.configMapRef.name ?? '', from.configMapRef.optional)
        for (const [key, value] of Object.entries(data ?? {})) env.set(prefix + key, value)
      }
      if (from.secretRef) {
        const data = secretData(sources, from.secretRef.name ?? '', from.secretRef.optional)
        for (const [key, value] of Object.entries(data ?? {})) env.set(prefix + key, value)
      }
    }
    for (const variable of container.env ?? []) {
      const value = variable.valueFrom ? valueFrom(pod, variable.name, variable.valueFrom, facts, sources) : expand(variable.value ?? '', env)
      if (value !== undefined) env.set(variable.name, value)
    }
  } catch (error) {
    if (error instanceof EnvError) return {ok: false, message: error.message}
    throw error
  }
  return {ok: true, env}
}

class EnvError extends Error {}

type ValueFrom = NonNullable<NonNullable<V1Container['env']>[number]['valueFrom']>

function valueFrom(pod: V1Pod, name: string, from: ValueFrom, facts: PodFacts, sources: ObjectSources): string | undefined {
  if (from.fieldRef) return fieldValue(pod, from.fieldRef.fieldPath, facts)
  if (from.configMapKeyRef) {
    const {name: source = '', key, optional} = from.configMapKeyRef
    const data = configMapData(sources, source, optional)
    if (data && key in data) return data[key]
    if (data && !optional) throw new EnvError(`couldn't find key ${key} in ConfigMap ${pod.metadata?.namespace}/${source}`)
    return undefined
  }
  if (from.secretKeyRef) {
    const {name: source = '', key, optional} = from.secretKeyRef
    const data = secretData(sources, source, optional)
    if (data && key in data) return data[key]
    if (data && !optional) throw new EnvError(`couldn't find key ${key} in Secret ${pod.metadata?.namespace}/${source}`)
    return undefined
  }
  throw new EnvError(`env ${name}: only value, fieldRef, configMapKeyRef and secretKeyRef are supported by the sandbox's kubelet`)
}

function fieldValue(pod: V1Pod, path: string, facts: PodFacts): string {
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path)
  if (labelOrAnnotation) {
    const map = labelOrAnnotation[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations
    return map?.[labelOrAnnotation[2]] ?? ''
  }
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? ''
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? ''
    case 'metadata.uid':
      return pod.metadata?.uid ?? ''
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? ''
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? ''
    case 'status.podIP':
    case 'status.podIPs':
      return facts.podIp
    case 'status.hostIP':
    case 'status.hostIPs':
      return facts.hostIp
    default:
      throw new EnvError(`unsupported fieldRef ${path}`)
  }
}

function configMapData(sources: ObjectSources, name: string, optional?: boolean): Record<string, string> | undefined {
  const configMap = sources.configMaps.get(name)
  if (configMap) return {...configMap.data}
  if (optional) return undefined
  throw new EnvError(`configmap "${name}" not found`)
}

function secretData(sources: ObjectSources, name: string, optional?: boolean): Record<string, string> | undefined {
  const secret = sources.secrets.get(name)
  if (secret) return decodeSecret(secret)
  if (optional) return undefined
  throw new EnvError(`secret "${name}" not found`)
}

/** A Secret's values as text; stringData is honoured too in case an API server stores it as written. */
export function decodeSecret(secret: V1Secret): Record<string, string> {
  const data: Record<string, string> = {}
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64').toString('utf8')
  return {...data, ...secret.stringData}
}

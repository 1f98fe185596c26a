import type {V1Container, V1PodTemplateSpec} from '@kubernetes/client-node'

import {UsageError} from '../errors.js'
import {requireSharedSetting, withSetting} from '../topology/config-settings.js'
import {CONFIG_ANNOTATION, maxMemoryBytes} from './cluster.js'

/** What a rollout changes; nothing at all (restart) still rolls every pod, through RESTARTED_AT. */
export interface TemplateChange {
  image?: string
  /** Container memory request and limit; maxmemory in redis.conf follows it, as at create. */
  memory?: string
  cpu?: string
  /** redis.conf settings, written into the ConfigMap. */
  settings?: Array<[string, string]>
  /** `kubectl rollout restart`'s annotation: a new template that differs in nothing else. */
  restartedAt?: string
}

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'

/** Settings redisctl itself relies on (where the cluster state and data live, how nodes find each other). */
const MANAGED = new Set(['port', 'cluster-enabled', 'cluster-config-file', 'dir', 'include', 'bind', 'cluster-announce-ip', 'cluster-port', 'appendonly'])

/** `--set KEY=VALUE` as redis.conf lines; a key redisctl manages, or a value that is not one line, is a usage error. */
export function parseSettings(pairs: readonly string[]): Array<[string, string]> {
  return pairs.map((pair) => {
    const at = pair.indexOf('=')
    const key = (at > 0 ? pair.slice(0, at) : '').trim().toLowerCase()
    const value = pair.slice(at + 1).trim()
    if (!/^[a-z][a-z0-9-]*$/.test(key) || value === '' || /[\r\n]/.test(value)) {
      throw new UsageError(`--set ${pair} is not KEY=VALUE with a redis.conf directive and a one-line value.`, ['Example: --set maxmemory-policy=allkeys-lru'])
    }
    if (MANAGED.has(key)) throw new UsageError(`--set ${key} is managed by redisctl (the cluster's data and addresses depend on it) and cannot be changed by a rollout.`)
    requireSharedSetting(key)
    return [key, value]
  })
}

/** The Redis container of a pod: named like redis/valkey, else imaged so (a sidecar's image may say redis too: redis_exporter), else the first. */
export function redisContainer<T extends Pick<V1Container, 'name' | 'image'>>(containers: readonly T[]): T | undefined {
  return containers.find((c) => /redis|valkey/.test(c.name)) ?? containers.find((c) => /redis|valkey/.test(c.image ?? '')) ?? containers[0]
}

/** redis.conf with each setting set as `config set` writes it (withSetting); --memory sets maxmemory as create does. */
export function changedConfig(conf: string, change: TemplateChange): string {
  const settings = [...(change.memory ? [['maxmemory', String(maxMemoryBytes(change.memory))], ['maxmemory-policy', 'noeviction']] as Array<[string, string]> : []), ...(change.settings ?? [])]
  return settings.reduce((next, [key, value]) => withSetting(next, key, value), conf)
}

/** A redis.conf line a rollout changes: `before` replaced by `after`, or only one of them for a line added or removed. */
export interface ConfLineChange {
  before?: string
  after?: string
}

/**
 * The lines of redis.conf that differ between `before` and `after`, a removed line paired with the added one of the
 * same directive, so a dry run can show what a --set or --memory (or an --undo) does to the file the pods start from.
 */
export function confChanges(before: string, after: string): ConfLineChange[] {
  const lines = (conf: string): string[] => conf.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  const [was, is] = [lines(before), lines(after)]
  const removed = was.filter((l) => !is.includes(l))
  const added = is.filter((l) => !was.includes(l))
  const directive = (line: string): string => line.split(/\s+/)[0].toLowerCase()
  const changes: ConfLineChange[] = added.map((line) => {
    const paired = removed.findIndex((r) => directive(r) === directive(line))
    return paired < 0 ? {after: line} : {before: removed.splice(paired, 1)[0], after: line}
  })
  return [...changes, ...removed.map((line) => ({before: line}))]
}

/** The pod template with the change made; `config` is the redis.conf the pods will read, carried as an annotation. */
export function changedTemplate(template: V1PodTemplateSpec, change: TemplateChange, config: string | undefined): V1PodTemplateSpec {
  const next = structuredClone(template)
  const annotations = {...next.metadata?.annotations}
  if (config !== undefined) annotations[CONFIG_ANNOTATION] = config
  if (change.restartedAt) annotations[RESTARTED_AT] = change.restartedAt
  next.metadata = {...next.metadata, annotations}
  const container = redisContainer(next.spec?.containers ?? [])
  if (!container) return next
  if (change.image) container.image = change.image
  for (const [resource, quantity] of [['memory', change.memory], ['cpu', change.cpu]] as const) {
    if (!quantity) continue
    container.resources = {
      ...container.resources,
      requests: {...container.resources?.requests, [resource]: quantity},
      limits: {...container.resources?.limits, [resource]: quantity},
    }
  }
  return next
}

import {UsageError} from '../errors.js'
import type {Finding} from './check.js'

/**
 * Redis settings as `config get`, `config set` and `check` reason about them: which may be changed live on every
 * node, which never go through redisctl's config commands, and the redis.conf text of the cluster's ConfigMap.
 */

/**
 * What Redis 7.0 refuses to change at run time: IMMUTABLE_CONFIG in src/config.c (`can't set immutable config`),
 * and PROTECTED_CONFIG while enable-protected-configs is no, its default (`can't set protected config`). Checked
 * against redis-server 7.0.15 by CONFIG SET of every setting to its own value. They take a restart.
 */
const RESTART_ONLY = new Set([
  'aclfile', 'always-show-logo', 'aof_rewrite_cpulist', 'appenddirname', 'appendfilename', 'bgsave_cpulist', 'bio_cpulist',
  'cluster-config-file', 'cluster-enabled', 'cluster-port', 'daemonize', 'databases', 'dbfilename', 'dir', 'disable-thp',
  'enable-debug-command', 'enable-module-command', 'enable-protected-configs', 'io-threads', 'io-threads-do-reads', 'logfile',
  'pidfile', 'rdbchecksum', 'replicaof', 'server_cpulist', 'set-proc-title', 'slaveof', 'socket-mark-id', 'supervised',
  'syslog-enabled', 'syslog-facility', 'syslog-ident', 'tcp-backlog', 'unixsocket', 'unixsocketperm',
])

/**
 * Passwords, and the files TLS keys and certificates come from: they live in Secrets mounted into the pods, never in
 * the ConfigMap, in argv or in output, so redisctl neither prints nor sets them.
 */
const SECRET = /^(requirepass|masterauth|masteruser)$|^tls-.*(-file|-dir|-pass)$/

/** Settings each pod has its own value of, from its pod (its IP, its ports): one value for every node would break them. */
const PER_POD = new Set(['port', 'tls-port', 'bind', 'bind-source-addr', 'cluster-announce-ip', 'cluster-announce-port',
  'cluster-announce-tls-port', 'cluster-announce-bus-port', 'cluster-announce-hostname'])

export const isSecretSetting = (key: string): boolean => SECRET.test(key.toLowerCase())

/**
 * Refuses (usage, nothing changed) a setting `config set` must not change, saying why and what applies it instead.
 * Immutable ones need the pods restarted with the new redis.conf, which `redisctl rollout --set` does, one pod at a time.
 */
export function requireLiveSettable(key: string, value: string): void {
  const k = key.toLowerCase()
  if (/[*?[]/.test(k)) throw new UsageError(`${key}: config set takes one setting by its name, not a pattern.`)
  requireSharedSetting(k)
  if (RESTART_ONLY.has(k)) throw restartOnly(key, value)
}

/**
 * Refuses (usage) a setting that no value written into the ConfigMap for every node may carry: a secret, or one each
 * pod has its own value of. `config set` and `rollout --set` both write the ConfigMap.
 */
export function requireSharedSetting(key: string): void {
  const k = key.toLowerCase()
  if (isSecretSetting(k)) {
    throw new UsageError(`${key} is not set through redisctl config or rollout: passwords and TLS key and certificate files come from Secrets mounted into the pods, and a value given here would land in the ConfigMap, which anyone who may read it can read.`,
      [/^tls-/.test(k) ? 'Put the files into the Secret the pods mount (redisctl tls rotate where available).' : 'Change the password in the Secret named by --password-secret and restart the pods (redisctl rollout).'])
  }
  if (PER_POD.has(k)) throw new UsageError(`${key} is set for each pod from its own address and ports: one value on every node would break the cluster.`)
}

/** The refusal of a setting Redis cannot change while it runs, with the rollout that applies it. */
export const restartOnly = (key: string, value: string): UsageError =>
  new UsageError(`Redis cannot change ${key} while it runs: it takes effect when the pods restart with it in their redis.conf.`,
    [`redisctl rollout --set ${key}=${quoteArg(value)} writes it into the ConfigMap and restarts the pods one at a time, masters after a failover.`])

const quoteArg = (value: string): string => (/^[\w.:/@+-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`)

/** Redis's immutable/protected refusal of CONFIG SET, for settings this list does not know (newer Redis versions). */
export const isRestartOnlyRefusal = (message: string): boolean => /can't set (immutable|protected) config/.test(message)

const DIRECTIVES_NOT_SETTINGS = new Set(['include', 'loadmodule', 'rename-command', 'user'])

/** The settings a redis.conf sets, by lower-case name, the last line winning as in Redis; directives that are not settings left out. */
export function confSettings(conf: string): Map<string, string> {
  const settings = new Map<string, string>()
  for (const raw of conf.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const [key, ...rest] = line.split(/\s+/)
    if (DIRECTIVES_NOT_SETTINGS.has(key.toLowerCase())) continue
    settings.set(key.toLowerCase(), unquote(rest.join(' ')))
  }
  return settings
}

const unquote = (value: string): string => (/^".*"$/.test(value) ? value.slice(1, -1).replaceAll('\\"', '"').replaceAll('\\\\', '\\') : value)

/** Words separated by single spaces go as they are (Redis splits a multi-word setting such as save either way); anything else quoted. */
const confValue = (value: string): string => (/^[^\s"'\\]+( [^\s"'\\]+)*$/.test(value) ? value : `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)

/**
 * The redis.conf with `key value` set: the setting's lines replaced by one where the first was, else added before the
 * first include (an included file, such as the auth one, keeps the last word on what it sets).
 */
export function withSetting(conf: string, key: string, value: string): string {
  const lines = conf.replace(/\n$/, '').split('\n')
  const line = `${key} ${confValue(value)}`
  const isKey = (l: string): boolean => l.trim().split(/\s+/)[0]?.toLowerCase() === key.toLowerCase()
  const first = lines.findIndex(isKey)
  const kept = lines.filter((l, i) => i === first || !isKey(l))
  if (first >= 0) kept[kept.findIndex(isKey)] = line
  else {
    const include = kept.findIndex((l) => l.trim().toLowerCase().startsWith('include '))
    kept.splice(include >= 0 ? include : kept.length, 0, line)
  }
  return kept.join('\n') + '\n'
}

const MEMORY = /^(\d+)(k|kb|m|mb|g|gb)?$/i
const UNITS: Record<string, number> = {k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3}

/** Whether two spellings of a setting's value are the same to Redis: case, spacing and memory units (1gb is 1073741824) aside. */
export function sameValue(a: string, b: string): boolean {
  const norm = (v: string): string => {
    const m = MEMORY.exec(v.trim())
    return m ? String(Number(m[1]) * (m[2] ? UNITS[m[2].toLowerCase()] : 1)) : v.trim().replaceAll(/\s+/g, ' ').toLowerCase()
  }
  return norm(a) === norm(b)
}

/** A cluster-node-timeout below redis.conf's is check's node-timeout-lowered, with its own cause and remedy. */
const lowerNodeTimeout = (key: string, value: string, wanted: string): boolean => key === 'cluster-node-timeout' && Number(value) < Number(wanted)

/** Settings whose value differs on every pod by design (its address, its volume's path): never compared. */
const notCompared = (key: string): boolean => PER_POD.has(key) || isSecretSetting(key) || ['dir', 'cluster-config-file', 'logfile', 'pidfile', 'unixsocket', 'aclfile'].includes(key)

/** Of the ConfigMap's settings, the ones worth comparing with what the nodes run. */
export const comparedSettings = (conf: Map<string, string>): string[] => [...conf.keys()].filter((k) => !notCompared(k))

export interface NodeSettings {
  pod: string
  /** What CONFIG GET returned, by setting. */
  values: Map<string, string>
}

/**
 * `check`'s config-drift warnings: for each setting the ConfigMap names, the nodes that run another value than the
 * others, or all of them another value than the ConfigMap (a restart would change it under them).
 */
export function configDrift(conf: Map<string, string>, nodes: readonly NodeSettings[], configMap: string): Finding[] {
  const findings: Finding[] = []
  for (const key of comparedSettings(conf)) {
    const wanted = conf.get(key)!
    const known = nodes.filter((n) => n.values.has(key) && !lowerNodeTimeout(key, n.values.get(key)!, wanted))
    if (known.length === 0) continue
    const groups: {value: string; pods: string[]}[] = []
    for (const n of known) {
      const value = n.values.get(key)!
      const group = groups.find((g) => sameValue(g.value, value))
      if (group) group.pods.push(n.pod)
      else groups.push({value, pods: [n.pod]})
    }
    const off = groups.filter((g) => !sameValue(g.value, wanted))
    if (off.length === 0) continue
    const runs = groups.map((g) => `${g.pods.join(', ')} ${g.pods.length === 1 ? 'runs' : 'run'} ${show(g.value)}`).join('; ')
    const message = groups.length > 1
      ? `The nodes disagree on ${key}: ${runs}; the ConfigMap ${configMap} says ${show(wanted)}.`
      : `Every node runs ${key} ${show(groups[0].value)}, but the ConfigMap ${configMap} says ${show(wanted)}: a restarted pod would change it.`
    findings.push({code: 'config-drift', severity: 'warning', message: `${message} redisctl config set ${key} VALUE sets every node and the ConfigMap.`,
      pods: off.flatMap((g) => g.pods)})
  }
  return findings
}

const show = (value: string): string => (value === '' ? '""' : value)

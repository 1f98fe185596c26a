import {NotFoundError, PreconditionError, type RedisctlError, UsageError} from '../errors.js'
import {readRedisConf, writeRedisConf} from '../kube/configmaps.js'
import {configMapName} from '../manifests/cluster.js'
import {configGet, configSet} from '../redis/config.js'
import type {Finding} from '../topology/check.js'
import {comparedSettings, configDrift, confSettings, isRestartOnlyRefusal, isSecretSetting, type NodeSettings, requireLiveSettable, restartOnly,
  sameValue, withSetting} from '../topology/config-settings.js'
import {podAddress} from '../topology/model.js'
import {observeLoaded, openCluster, type OpenCluster} from './inspect.js'
import {requireClusterName} from './pods.js'
import {openTarget, type TargetOptions} from './session.js'
import {sentences} from '../util/words.js'

/** What every pod's node runs, read concurrently; the pods that did not answer are named apart. */
async function nodeSettings(cluster: Pick<OpenCluster, 'access' | 'pods'>, patterns: readonly string[]): Promise<{nodes: NodeSettings[]; silent: string[]}> {
  const read = await Promise.all(cluster.pods.map(async (pod) => {
    try {
      return {pod: pod.pod, values: await configGet(cluster.access.connector, podAddress(pod), patterns)}
    } catch {
      return {pod: pod.pod}
    }
  }))
  return {
    nodes: read.flatMap((r) => ('values' in r && r.values ? [{pod: r.pod, values: r.values}] : [])),
    silent: read.filter((r) => !('values' in r)).map((r) => r.pod),
  }
}

export interface SettingValues {
  key: string
  /** What the ConfigMap's redis.conf sets it to; absent when it does not name it (Redis's default then). */
  configMap?: string
  /** Each node's value; `differs` from the ConfigMap's, or when it names none, from the value most nodes run. */
  nodes: {pod: string; value: string; differs: boolean}[]
  /** Every node that answered runs the same value. */
  agreed: boolean
  /** The nodes run what the ConfigMap says; absent when it does not name the setting. */
  matchesConfigMap?: boolean
}

export interface ConfigGetReport {
  namespace: string
  /** redisctl's ConfigMap of the cluster; absent for pods that no StatefulSet owns, which have none. */
  configMap?: string
  /** The ConfigMap could be read (it exists and this identity may get it). */
  configMapFound: boolean
  settings: SettingValues[]
  /** Pods whose node did not answer. */
  silent: string[]
  warnings: string[]
}

function mostCommon(values: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ''
}

const requireNotSecret = (key: string): void => {
  if (isSecretSetting(key)) throw new UsageError(`${key} is never shown: passwords and TLS key files stay in their Secrets.`)
}

const unknownSetting = (key: string): UsageError =>
  new UsageError(`Redis knows no setting matching ${key}.`, ['redisctl config get \'*\' lists every setting the nodes run.'])

/** `config get KEY`: the value on every node and in the ConfigMap, side by side. Changes nothing. */
export async function getConfig(options: TargetOptions, pattern: string): Promise<ConfigGetReport> {
  requireNotSecret(pattern)
  const target = await openTarget(options)
  const cluster = await openCluster(options, target)
  const configMap = target.name === undefined ? undefined : configMapName(target.name)
  try {
    const [{nodes, silent}, conf] = await Promise.all([nodeSettings(cluster, [pattern]), configMap === undefined ? undefined : readRedisConf(target.kube, configMap)])
    const keys = [...new Set(nodes.flatMap((n) => [...n.values.keys()]))].sort()
    if (keys.length === 0 && nodes.length > 0) throw unknownSetting(pattern)
    const wanted = conf === undefined ? new Map<string, string>() : confSettings(conf)
    const settings = keys.map((key): SettingValues => {
      const values = nodes.flatMap((n) => (n.values.has(key) ? [{pod: n.pod, value: n.values.get(key)!}] : []))
      const inConf = wanted.get(key)
      const common = inConf ?? mostCommon(values.map((v) => v.value))
      return {
        key,
        ...(inConf === undefined ? {} : {configMap: inConf, matchesConfigMap: values.every((v) => sameValue(v.value, inConf))}),
        nodes: values.map((v) => ({...v, differs: !sameValue(v.value, common)})),
        agreed: values.every((v) => sameValue(v.value, values[0].value)),
      }
    })
    return {namespace: target.kube.namespace, configMap, configMapFound: conf !== undefined, settings, silent, warnings: target.kube.warnings.all}
  } finally {
    await cluster.access.close()
  }
}

export interface ConfigSetReport {
  namespace: string
  key: string
  value: string
  dryRun: boolean
  configMap: string
  /** The ConfigMap's redis.conf had another value (or none) and was, or would be, rewritten. */
  configMapChanged: boolean
  /** Each node's value before, and whether it was (or would be) changed. */
  nodes: {pod: string; before: string; changed: boolean}[]
  warnings: string[]
}

/**
 * `config set KEY VALUE`: CONFIG SET on every node, then the same line in the ConfigMap's redis.conf so that a
 * restarted pod starts with it. Refuses, before changing anything: settings Redis cannot change live (with the
 * rollout that applies them), secrets, per-pod settings, a cluster whose ConfigMap is missing, a node that does not
 * answer. One node takes the value first: a value Redis refuses is then refused with nothing changed.
 */
export async function setConfig(options: TargetOptions, key: string, value: string, {dryRun, timeoutMs}: {dryRun: boolean; timeoutMs: number}): Promise<ConfigSetReport> {
  requireLiveSettable(key, value)
  const target = await openTarget(options, {operation: 'config'})
  const configMap = configMapName(await requireClusterName(target, 'config set writes the ConfigMap named after their StatefulSet'))
  const conf = await readRedisConf(target.kube, configMap)
  if (conf === undefined) {
    throw new NotFoundError(`The ConfigMap ${configMap} with the pods' redis.conf was not found in namespace ${target.kube.namespace}: a setting made only live would be lost at the next restart.`,
      ['Check --name and -n/--namespace; a cluster redisctl did not create keeps its config elsewhere (set it there, and on the nodes with redis-cli CONFIG SET).'])
  }
  const cluster = await openCluster(options, target)
  try {
    await observeLoaded(cluster, timeoutMs)
    const {nodes, silent} = await nodeSettings(cluster, [key])
    if (silent.length > 0) {
      throw new PreconditionError(`${silent.join(', ')} did not answer: every node must take the setting, or they would disagree.`,
        ['Check that the pods are Running and Ready (redisctl status), then run the same command again.'])
    }
    const name = key.toLowerCase()
    if (nodes.every((n) => !n.values.has(name))) throw unknownSetting(key)
    const before = nodes.map((n) => ({pod: n.pod, before: n.values.get(name)!, changed: !sameValue(n.values.get(name)!, value)}))
    const inConf = confSettings(conf).get(name)
    const report = {namespace: target.kube.namespace, key: name, value, dryRun, configMap, configMapChanged: inConf === undefined || !sameValue(inConf, value),
      nodes: before, warnings: target.kube.warnings.all}
    if (dryRun) return report
    const address = (pod: string) => podAddress(cluster.pods.find((p) => p.pod === pod)!)
    const [first, ...rest] = before.filter((n) => n.changed)
    if (first) {
      try {
        await configSet(cluster.access.connector, address(first.pod), name, value)
      } catch (error) {
        throw refusal(name, value, error as RedisctlError)
      }
    }
    // Written before the other nodes change: a run stopped between the two leaves the nodes, not the ConfigMap, behind, and a re-run finishes them.
    if (report.configMapChanged) await writeRedisConf(target.kube, configMap, withSetting(conf, name, value))
    await Promise.all(rest.map((n) => configSet(cluster.access.connector, address(n.pod), name, value)))
    return report
  } finally {
    await cluster.access.close()
  }
}

/** Redis's refusal of the first node's CONFIG SET, nothing changed yet: a setting it cannot change live points to the rollout that applies it. */
function refusal(key: string, value: string, error: RedisctlError): RedisctlError {
  if (isRestartOnlyRefusal(error.message)) return restartOnly(key, value)
  return error.kind === 'precondition' ? new UsageError(sentences([error.message, 'Nothing was changed.'])) : error
}

/**
 * `check`'s comparison of the nodes with the ConfigMap the pods mount: for the settings its redis.conf names, nodes
 * that disagree with each other or with it (one CONFIG GET per node). Nodes that do not answer are check's
 * unreachable finding already.
 */
export async function configDriftFindings(cluster: Pick<OpenCluster, 'access' | 'pods'>, configMap: string, conf: string): Promise<Finding[]> {
  const wanted = confSettings(conf)
  const {nodes} = await nodeSettings(cluster, comparedSettings(wanted))
  return configDrift(wanted, nodes, configMap)
}

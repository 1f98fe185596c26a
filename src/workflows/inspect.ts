import {X509Certificate} from 'node:crypto'

import {readRedisConf} from '../kube/configmaps.js'
import {requireRedisPods, type RedisPod} from '../kube/pods.js'
import {observeCluster} from '../redis/observe.js'
import type {Finding} from '../topology/check.js'
import {observationError} from '../topology/observation.js'
import {buildTopology, podAddress, podName, type PodRef, type Topology} from '../topology/model.js'
import {waitUntil} from '../util/wait.js'
import {toPodRefs} from './pods.js'
import {openRedis, openTarget, type KubeTargetSession, type RedisAccess, type TargetOptions} from './session.js'

export interface OpenCluster {
  target: KubeTargetSession
  access: RedisAccess
  pods: PodRef[]
  /** The same pods as Kubernetes lists them (owners, annotations, phase). */
  kubePods: RedisPod[]
  /** Reads every node again: the pods from Kubernetes are kept, the Redis side is fresh. */
  observe(): Promise<Topology>
}

/**
 * Connects to Kubernetes (or uses the session a command already opened) and to every matching pod's Redis; the
 * caller closes `access`.
 */
export async function openCluster(options: TargetOptions, session?: KubeTargetSession): Promise<OpenCluster> {
  const target = session ?? await openTarget(options)
  const pods = await requireRedisPods(target.kube, target.selector)
  return clusterOver(target, await openRedis(target, pods, options.connect), pods)
}

/** The cluster of these pods over connections already open (the caller closes them). */
export function clusterOver(target: KubeTargetSession, access: RedisAccess, pods: RedisPod[]): OpenCluster {
  const refs = toPodRefs(pods)
  return {
    target,
    access,
    pods: refs,
    kubePods: pods,
    observe: async () => {
      const observation = await observeCluster(access.connector, refs.map(podAddress))
      const refusal = access.refusal?.()
      if (refusal) throw refusal
      // A refused password is the caller's to fix, not a finding about the cluster: without it every node would
      // read as unreachable, status would show that, and check or a scale would call the cluster unhealthy.
      const [refused] = observation.nodes.flatMap((n) => (!n.ok && n.error.kind === 'authFailed' ? [n] : []))
      if (refused) throw observationError(refused)
      return buildTopology(refs, observation)
    },
  }
}

/**
 * Reads every node once none is loading its data: a pod restarted with a large data set is Ready (its probe opens
 * a TCP connection) while Redis answers only LOADING, and a command that changes the cluster would otherwise take
 * that for damage and stop. Waits at most `timeoutMs` for loading nodes; a node that does not answer at all is
 * the caller's to judge, and the first read is not cut short by the wait's deadline.
 */
export async function observeLoaded(cluster: Pick<OpenCluster, 'access' | 'observe'>, timeoutMs: number, onWaiting?: (missing: string) => void): Promise<Topology> {
  const loading = (topology: Topology): string[] => topology.nodes.filter((n) => n.error?.kind === 'loading').map(podName)
  const first = await cluster.observe()
  if (loading(first).length === 0) return first
  return waitUntil('Redis to finish loading its data', async () => {
    const topology = await cluster.observe()
    const still = loading(topology)
    return still.length === 0 ? {done: true, value: topology} : {done: false, missing: `still loading: ${still.join(', ')}`}
  }, {timeoutMs, intervalMs: 100, signal: cluster.access.connector.signal, onWaiting})
}

/** observeLoaded for a step that needs every pod to answer: the first pod that does not is thrown, as its error. */
export async function observeEveryPodLoaded(cluster: Pick<OpenCluster, 'access' | 'observe'>, timeoutMs: number): Promise<Topology> {
  const topology = await observeLoaded(cluster, timeoutMs)
  const silent = topology.nodes.find((n) => n.pod && n.error)
  if (silent) throw observationError({address: silent.address, ok: false, error: silent.error!})
  return topology
}

export interface Inspection {
  namespace: string
  /** The cluster's StatefulSet (session.ts openTarget); undefined for pods no StatefulSet owns. */
  name?: string
  selector: string
  topology: Topology
  warnings: string[]
  /** With `redisConf`: the redis.conf of the ConfigMap the pods mount, when there is one and it can be read. */
  redisConf?: string
  /** With `security`: what each node shows of its security, as findings (topology/security.ts). */
  security?: Finding[]
  /** With `configDrift`: nodes that run another value of a setting that redis.conf names than each other or than it. */
  configDrift?: Finding[]
}

/**
 * Reads the live cluster: the pods from Kubernetes, every node's view from Redis, joined into one Topology, and on
 * request the pods' redis.conf (one more Kubernetes call, which status does without) and who may connect to each
 * node that answered. Changes nothing.
 */
export async function inspectCluster(options: TargetOptions, session?: KubeTargetSession,
  read: {redisConf?: boolean; security?: boolean; configDrift?: boolean} = {}): Promise<Inspection> {
  const cluster = await openCluster(options, session)
  try {
    const configMap = read.redisConf || read.configDrift ? cluster.kubePods.find((p) => p.configMap)?.configMap : undefined
    const [topology, redisConf] = await Promise.all([cluster.observe(), configMap ? readRedisConf(cluster.target.kube, configMap) : undefined])
    // A node that did not answer is reported by the observation; asking it again would wait out --timeout once more per question.
    const answered = new Set(topology.nodes.flatMap((n) => (n.reachable && n.pod ? [n.pod.pod] : [])))
    const asked = {...cluster, pods: cluster.pods.filter((p) => answered.has(p.pod))}
    const [security, configDrift] = await Promise.all([
      read.security ? securityOf(asked) : undefined,
      read.configDrift && configMap && redisConf !== undefined ? driftOf(asked, configMap, redisConf) : undefined,
    ])
    return {namespace: cluster.target.kube.namespace, name: cluster.target.name, selector: cluster.target.selector, topology, warnings: cluster.target.kube.warnings.all, redisConf, security, configDrift}
  } finally {
    await cluster.access.close()
  }
}

async function securityOf(cluster: OpenCluster): Promise<Finding[]> {
  const {observeSecurity} = await import('../redis/security.js')
  const {securityFindings} = await import('../topology/security.js')
  const nodes = await observeSecurity(cluster.access.connector, cluster.pods.map((p) => ({pod: p.pod, address: podAddress(p)})))
  const {tls} = cluster.access
  const secret = tls?.cert ? {source: tls.source, fingerprint: new X509Certificate(tls.cert).fingerprint256} : undefined
  return securityFindings(nodes, new Date(), secret)
}

async function driftOf(cluster: OpenCluster, configMap: string, conf: string): Promise<Finding[]> {
  const {configDriftFindings} = await import('./config.js')
  return configDriftFindings(cluster, configMap, conf)
}

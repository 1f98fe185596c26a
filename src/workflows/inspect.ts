import {readRedisConf} from '../kube/configmaps.js'
import {requireRedisPods, type RedisPod} from '../kube/pods.js'
import {observeCluster} from '../redis/observe.js'
import {observeAuth} from '../redis/security.js'
import type {NodeAuth} from '../topology/security.js'
import {observationError} from '../topology/observation.js'
import {buildTopology, podAddress, type PodRef, type Topology} from '../topology/model.js'
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

export interface Inspection {
  namespace: string
  topology: Topology
  warnings: string[]
  /** With `redisConf`: the redis.conf of the ConfigMap the pods mount, when there is one and it can be read. */
  redisConf?: string
  /** With `auth`: who may connect to each node that answered. */
  auth?: NodeAuth[]
}

/**
 * Reads the live cluster: the pods from Kubernetes, every node's view from Redis, joined into one Topology, and on
 * request the pods' redis.conf (one more Kubernetes call, which status does without) and who may connect to each
 * node that answered. Changes nothing.
 */
export async function inspectCluster(options: TargetOptions, session?: KubeTargetSession, read: {redisConf?: boolean; auth?: boolean} = {}): Promise<Inspection> {
  const cluster = await openCluster(options, session)
  try {
    const configMap = read.redisConf ? cluster.kubePods.find((p) => p.configMap)?.configMap : undefined
    const [topology, redisConf] = await Promise.all([cluster.observe(), configMap ? readRedisConf(cluster.target.kube, configMap) : undefined])
    const answered = topology.nodes.flatMap((n) => (n.pod && n.reachable ? [{pod: n.pod.pod, address: n.address}] : []))
    const auth = read.auth ? await observeAuth(cluster.access.connector, answered) : undefined
    return {namespace: cluster.target.kube.namespace, topology, warnings: cluster.target.kube.warnings.all, redisConf, auth}
  } finally {
    await cluster.access.close()
  }
}

import type {V1Container, V1Pod} from '@kubernetes/client-node'

import {NotFoundError} from '../errors.js'
import {redisContainer} from '../manifests/rollout.js'
import {podDnsName} from '../manifests/cluster.js'
import {httpStatus, kubeError} from './api-errors.js'
import {notFoundIn, type Kube} from './context.js'
import {describePermission, NODE_ZONES} from './permissions.js'

const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone']

/** A pod as redisctl needs it: where Redis listens and where the pod runs. */
export interface RedisPod {
  name: string
  uid: string
  ordinal?: number
  ip?: string
  /** `<hostname>.<subdomain>.<namespace>.svc` for a pod under a headless Service (a StatefulSet's): what TLS verifies. */
  dnsName?: string
  port: number
  k8sNode?: string
  zone?: string
  phase: string
  ready: boolean
  terminating: boolean
  owner?: {kind: string; name: string}
  annotations: Record<string, string>
  /** The ConfigMap the pod mounts (where redisctl's pods find their redis.conf). */
  configMap?: string
  /** The StatefulSet revision the pod was made from (its controller-revision-hash label). */
  revision?: string
  /** Why the pod is held back, from its status: PodScheduled=False, or a container waiting (ErrImagePull, CrashLoopBackOff). */
  hold?: {reason: string; message?: string}
  /** The scheduler has not placed it (PodScheduled=False). */
  unscheduled: boolean
  /** The PersistentVolumeClaims its volumes name. */
  claims: string[]
}

/** The last listing of a client's pods, until the next listing takes it (see listRedisPodsWithoutZones). */
const kept = new WeakMap<Kube, {selector: string; writes: number; pods: V1Pod[]}>()

/** The pods matching `selector`: the kept listing when it is of them and nothing was written since, else asked anew. */
async function listPods(kube: Kube, selector: string): Promise<V1Pod[]> {
  const last = kept.get(kube)
  kept.delete(kube)
  if (last?.selector === selector && last.writes === kube.writes) return last.pods
  const listed = await kube.call(`listing pods with selector "${selector}" in namespace ${kube.namespace}`,
    () => kube.core.listNamespacedPod({namespace: kube.namespace, labelSelector: selector}))
  return listed.items
}

export async function listRedisPods(kube: Kube, selector: string): Promise<RedisPod[]> {
  const [pods, zones] = await Promise.all([listPods(kube, selector), nodeZones(kube)])
  return pods.map((pod) => toRedisPod(pod, zones)).sort(byOrdinalThenName)
}

/**
 * Like listRedisPods without reading the Nodes for zones: for who owns the pods, not where they run. This listing
 * comes before the command acts (openTarget names the cluster by it), so it is kept for the command's own first
 * listing of the same pods, which would otherwise ask again for the same answer; a write in between makes it stale.
 */
export async function listRedisPodsWithoutZones(kube: Kube, selector: string): Promise<RedisPod[]> {
  const pods = await listPods(kube, selector)
  kept.set(kube, {selector, writes: kube.writes, pods})
  return pods.map((pod) => toRedisPod(pod)).sort(byOrdinalThenName)
}

/** Like listRedisPods, but no match is a NotFoundError that says how to fix the selector. */
export async function requireRedisPods(kube: Kube, selector: string): Promise<RedisPod[]> {
  const pods = await listRedisPods(kube, selector)
  if (pods.length === 0) {
    throw await notFoundIn(kube, new NotFoundError(`No pods match the selector "${selector}" in namespace ${kube.namespace}.`, [
      'Check -n/--namespace and -l/--selector (kubectl get pods --show-labels), or create the cluster: redisctl cluster create.',
    ]))
  }
  return pods
}

const ZONES_UNKNOWN = 'zones-unknown'

/**
 * Which zone each Kubernetes node is in. Reading Nodes is cluster-scoped, which a namespace-bound identity (a CI
 * ServiceAccount) usually may not: then zones are unknown, said once, and not asked again during this command.
 */
async function nodeZones(kube: Kube): Promise<Map<string, string>> {
  const zones = new Map<string, string>()
  if (kube.warnings.has(ZONES_UNKNOWN)) return zones
  try {
    const nodes = await kube.core.listNode()
    for (const node of nodes.items) {
      const labels = node.metadata?.labels ?? {}
      const zone = ZONE_LABELS.map((l) => labels[l]).find(Boolean)
      if (node.metadata?.name && zone) zones.set(node.metadata.name, zone)
    }
  } catch (error) {
    // Stopped, or past the command's deadline: the command ends, and zones are not what went wrong.
    if (kube.signal?.aborted) throw kubeError(error, 'listing the Kubernetes nodes for their zones', kube.server)
    const code = httpStatus(error)
    const why = code === 403 ? `${describePermission(NODE_ZONES)} is not allowed at the cluster scope` : `listing them failed (${code ? `HTTP ${code}` : String(error)})`
    kube.warnings.add(ZONES_UNKNOWN, `Kubernetes nodes cannot be read (${why}), so zones are unknown: replicas are kept off their master's node, but not spread over zones, and ZONE shows -. ` +
      'A ClusterRole rule {apiGroups: [""], resources: ["nodes"], verbs: ["list"]} bound to this identity gives them (redisctl rbac prints it).')
  }
  return zones
}

export function toRedisPod(pod: V1Pod, zones: Map<string, string> = new Map()): RedisPod {
  const name = pod.metadata?.name ?? ''
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0]
  const k8sNode = pod.spec?.nodeName
  return {
    name,
    uid: pod.metadata?.uid ?? '',
    ordinal: podOrdinal(pod),
    ip: pod.status?.podIP,
    dnsName: pod.spec?.hostname && pod.spec.subdomain ? podDnsName(pod.spec.hostname, pod.spec.subdomain, pod.metadata?.namespace ?? 'default') : undefined,
    port: redisPort(pod.spec?.containers ?? []),
    k8sNode,
    zone: k8sNode ? zones.get(k8sNode) : undefined,
    phase: pod.status?.phase ?? 'Unknown',
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    terminating: Boolean(pod.metadata?.deletionTimestamp),
    owner: owner ? {kind: owner.kind, name: owner.name} : undefined,
    annotations: pod.metadata?.annotations ?? {},
    configMap: pod.spec?.volumes?.find((v) => v.configMap?.name)?.configMap?.name,
    revision: pod.metadata?.labels?.['controller-revision-hash'],
    hold: podHold(pod),
    unscheduled: pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False') ?? false,
    claims: (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [])),
  }
}

function podHold(pod: V1Pod): RedisPod['hold'] {
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')
  if (unscheduled) return {reason: unscheduled.reason ?? 'Unschedulable', message: unscheduled.message}
  const waiting = (pod.status?.containerStatuses ?? []).map((c) => c.state?.waiting).find((w) => w?.reason && w.reason !== 'ContainerCreating')
  return waiting ? {reason: waiting.reason!, message: waiting.message} : undefined
}

function podOrdinal(pod: V1Pod): number | undefined {
  const label = pod.metadata?.labels?.['apps.kubernetes.io/pod-index']
  const match = label ?? /-(\d+)$/.exec(pod.metadata?.name ?? '')?.[1]
  return match === undefined ? undefined : Number(match)
}

/**
 * The client port of the Redis container, read from the pod spec rather than assumed: a port named like "redis",
 * else the first port that is not the cluster bus, else `--port N` in the container's command line, else 6379.
 */
export function redisPort(containers: V1Container[]): number {
  const container = redisContainer(containers)
  if (!container) return 6379
  const ports = container.ports ?? []
  const named = ports.find((p) => /^(redis|client|tcp-redis)$/.test(p.name ?? ''))
  if (named) return named.containerPort
  const busPorts = new Set(ports.map((p) => p.containerPort + 10000))
  const first = ports.find((p) => !/bus|gossip/.test(p.name ?? '') && !busPorts.has(p.containerPort))
  if (first) return first.containerPort
  const argv = [...(container.command ?? []), ...(container.args ?? [])]
  const flag = argv.indexOf('--port')
  if (flag >= 0 && Number(argv[flag + 1]) > 0) return Number(argv[flag + 1])
  return 6379
}

const byOrdinalThenName = (a: RedisPod, b: RedisPod): number =>
  (a.ordinal ?? Number.MAX_SAFE_INTEGER) - (b.ordinal ?? Number.MAX_SAFE_INTEGER) || a.name.localeCompare(b.name)

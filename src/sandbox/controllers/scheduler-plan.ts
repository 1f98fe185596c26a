import type {V1Node, V1PersistentVolumeClaim, V1Pod, V1PodAffinityTerm, V1StorageClass} from '@kubernetes/client-node'

import {parseQuantity} from './quantity.js'
import {labelSelectorMatches, nodeSelectorMatches, nodeSelectorTermsMatch} from './selectors.js'
import {willProvision} from './volume-plan.js'

/**
 * Picking a node for one pod, as kube-scheduler's default profile does for what the sandbox uses: the
 * VolumeBinding pre-filter (claims missing or unbound), filters (NodeUnschedulable, NodeAffinity incl. nodeSelector,
 * NodeResourcesFit for the pod count and cpu/memory requests, InterPodAffinity required terms both ways), then a score (preferred inter-pod (anti-)affinity, spreading a workload over
 * zones and nodes, fewest pods) with the node name as a deterministic tie-break. A pod that fits nowhere gets
 * the FitError message kube-scheduler writes into its FailedScheduling event and PodScheduled condition.
 */

export const HOSTNAME_LABEL = 'kubernetes.io/hostname'
export const ZONE_LABEL = 'topology.kubernetes.io/zone'
const DEFAULT_MAX_PODS = 110

export type Placement = {node: string} | {unschedulable: string}

/** Why a node was filtered out (a plugin may give several reasons), and whether preemption could ever help (UnschedulableAndUnresolvable). */
interface Rejection {
  reasons: string[]
  resolvable: boolean
}

export function schedule(pod: V1Pod, nodes: readonly V1Node[], podsByNode: ReadonlyMap<string, readonly V1Pod[]>): Placement {
  if (nodes.length === 0) return {unschedulable: 'no nodes available to schedule pods'}
  const nodeLabels = new Map(nodes.map((node) => [node.metadata?.name ?? '', node.metadata?.labels ?? {}]))
  const placed = [...podsByNode].flatMap(([node, pods]) => pods.map((existing) => ({pod: existing, labels: nodeLabels.get(node) ?? {}})))

  const rejections = new Map<string, Rejection>()
  const feasible: V1Node[] = []
  for (const node of nodes) {
    const rejection = filter(pod, node, podsByNode.get(node.metadata?.name ?? '') ?? [], placed)
    if (rejection) rejections.set(node.metadata?.name ?? '', rejection)
    else feasible.push(node)
  }
  if (feasible.length === 0) return {unschedulable: fitError(nodes.length, [...rejections.values()])}

  const scored = feasible.map((node) => ({node, score: score(pod, node, podsByNode.get(node.metadata?.name ?? '') ?? [], placed)}))
  scored.sort((a, b) => compareScores(a.score, b.score) || (a.node.metadata?.name ?? '').localeCompare(b.node.metadata?.name ?? ''))
  return {node: scored[0].node.metadata?.name ?? ''}
}

interface PlacedPod {
  pod: V1Pod
  /** Labels of the node the pod runs on. */
  labels: Record<string, string>
}

function filter(pod: V1Pod, node: V1Node, podsOnNode: readonly V1Pod[], placed: PlacedPod[]): Rejection | undefined {
  const labels = node.metadata?.labels ?? {}
  if (node.spec?.unschedulable) return {reasons: ['node(s) were unschedulable'], resolvable: false}
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms
  if (!nodeSelectorMatches(pod.spec?.nodeSelector, labels) || (required && !nodeSelectorTermsMatch(required, node.metadata?.name ?? '', labels))) {
    return {reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false}
  }
  const shortfalls = resourceShortfalls(pod, node, podsOnNode)
  if (shortfalls.length > 0) return {reasons: shortfalls, resolvable: true}
  const affinity = pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []
  if (!affinity.every((term) => affinitySatisfied(pod, term, labels, placed))) {
    return {reasons: ["node(s) didn't match pod affinity rules"], resolvable: false}
  }
  const antiAffinity = pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []
  if (antiAffinity.some((term) => matchingInDomain(pod, term, labels, placed).length > 0)) {
    return {reasons: ["node(s) didn't match pod anti-affinity rules"], resolvable: true}
  }
  const existingAntiAffinity = placed.some(({pod: existing, labels: existingNode}) =>
    (existing.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some(
      (term) => sameDomain(term.topologyKey, existingNode, labels) && termSelects(existing, term, pod),
    ),
  )
  if (existingAntiAffinity) return {reasons: ["node(s) didn't satisfy existing pods anti-affinity rules"], resolvable: true}
  return undefined
}

/** NodeResourcesFit's fitsRequest: the pod count, then each requested resource against what the node has left. */
function resourceShortfalls(pod: V1Pod, node: V1Node, podsOnNode: readonly V1Pod[]): string[] {
  const shortfalls = podsOnNode.length + 1 > maxPods(node) ? ['Too many pods'] : []
  for (const resource of ['cpu', 'memory']) {
    const wanted = requested(pod, resource)
    if (wanted <= 0) continue
    const allocatable = parseQuantity(node.status?.allocatable?.[resource] ?? node.status?.capacity?.[resource]) ?? 0
    const used = podsOnNode.reduce((sum, other) => sum + requested(other, resource), 0)
    if (wanted > allocatable - used) shortfalls.push(`Insufficient ${resource}`)
  }
  return shortfalls
}

/** The pod's request of a resource: the sum over its containers (the API server has filled requests in from limits). */
function requested(pod: V1Pod, resource: string): number {
  return (pod.spec?.containers ?? []).reduce((sum, c) => sum + (parseQuantity(c.resources?.requests?.[resource]) ?? 0), 0)
}

function maxPods(node: V1Node): number {
  const value = Number(node.status?.allocatable?.pods ?? node.status?.capacity?.pods ?? DEFAULT_MAX_PODS)
  return Number.isFinite(value) ? value : DEFAULT_MAX_PODS
}

/** A node without the topology label is in no domain: terms over that key neither match nor repel there. */
function sameDomain(topologyKey: string, a: Record<string, string>, b: Record<string, string>): boolean {
  return Object.hasOwn(a, topologyKey) && Object.hasOwn(b, topologyKey) && a[topologyKey] === b[topologyKey]
}

/**
 * Whether an affinity term written in `owner`'s spec selects `candidate`: the label selector, over the term's
 * namespaces (the owner's own when none are listed; an empty namespaceSelector means all namespaces).
 */
function termSelects(owner: V1Pod, term: V1PodAffinityTerm, candidate: V1Pod): boolean {
  const namespace = candidate.metadata?.namespace
  const selectorIsAll = term.namespaceSelector !== undefined && term.namespaceSelector !== null && Object.keys(term.namespaceSelector.matchLabels ?? {}).length === 0 && (term.namespaceSelector.matchExpressions ?? []).length === 0
  const namespaces = term.namespaces?.length ? term.namespaces : term.namespaceSelector ? [] : [owner.metadata?.namespace]
  if (!selectorIsAll && !namespaces.includes(namespace)) return false
  return labelSelectorMatches(term.labelSelector, candidate.metadata?.labels)
}

function matchingInDomain(pod: V1Pod, term: V1PodAffinityTerm, nodeLabels: Record<string, string>, placed: PlacedPod[]): PlacedPod[] {
  return placed.filter(({pod: existing, labels}) => sameDomain(term.topologyKey, labels, nodeLabels) && termSelects(pod, term, existing))
}

/**
 * Required pod affinity: some selected pod in the node's domain, or, as kube-scheduler allows for the first
 * pod of a group, no selected pod anywhere and the pod selects itself.
 */
function affinitySatisfied(pod: V1Pod, term: V1PodAffinityTerm, nodeLabels: Record<string, string>, placed: PlacedPod[]): boolean {
  if (matchingInDomain(pod, term, nodeLabels, placed).length > 0) return true
  const anywhere = placed.some(({pod: existing}) => termSelects(pod, term, existing))
  return !anywhere && termSelects(pod, term, pod) && Object.hasOwn(nodeLabels, term.topologyKey)
}

interface Score {
  /** Sum over preferred terms of weight per matching pod in the domain: affinity adds, anti-affinity subtracts. */
  preference: number
  /** Pods of the same controller in the node's zone plus on the node itself. */
  siblings: number
  pods: number
}

function score(pod: V1Pod, node: V1Node, podsOnNode: readonly V1Pod[], placed: PlacedPod[]): Score {
  const labels = node.metadata?.labels ?? {}
  const weigh = (terms: {weight: number; podAffinityTerm: V1PodAffinityTerm}[] | undefined, sign: number) =>
    (terms ?? []).reduce((sum, term) => sum + sign * term.weight * matchingInDomain(pod, term.podAffinityTerm, labels, placed).length, 0)
  const preference =
    weigh(pod.spec?.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution, 1) +
    weigh(pod.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution, -1)
  const owner = controllerUid(pod)
  const sibling = (other: V1Pod) => owner !== undefined && controllerUid(other) === owner
  const inZone = Object.hasOwn(labels, ZONE_LABEL) ? placed.filter((p) => sameDomain(ZONE_LABEL, p.labels, labels) && sibling(p.pod)).length : 0
  const onNode = podsOnNode.filter(sibling).length
  return {preference, siblings: inZone + onNode, pods: podsOnNode.length}
}

function compareScores(a: Score, b: Score): number {
  return b.preference - a.preference || a.siblings - b.siblings || a.pods - b.pods
}

function controllerUid(pod: V1Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((ref) => ref.controller)?.uid
}

/**
 * framework.FitError.Error(): `0/N nodes are available: <count> <reason>, ... .` followed by the preemption
 * PostFilter's own summary; no pod here has a lower priority to evict, so preemption never finds victims.
 */
export function fitError(nodeCount: number, rejections: readonly Rejection[]): string {
  const histogram = (reasons: string[]) => {
    const counts = new Map<string, number>()
    for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1)
    return [...counts].map(([reason, count]) => `${count} ${reason}`).sort()
  }
  const filterSummary = histogram(rejections.flatMap((r) => r.reasons))
  const preemption = histogram(
    rejections.map((r) => (r.resolvable ? 'No preemption victims found for incoming pod' : 'Preemption is not helpful for scheduling')),
  )
  return `0/${nodeCount} nodes are available: ${filterSummary.join(', ')}. preemption: 0/${nodeCount} nodes are available: ${preemption.join(', ')}.`
}

/** The FitError of a pod its pre-filter turned away: every node gets the same unresolvable status. */
export function preFilterFitError(nodeCount: number, message: string): string {
  return `0/${nodeCount} nodes are available: ${message}. preemption: 0/${nodeCount} nodes are available: ${nodeCount} Preemption is not helpful for scheduling.`
}

export type ClaimsReadiness = {ready: true} | {waiting: true} | {unschedulable: string}

/**
 * VolumeBinding's PreFilter (GetPodVolumeClaims) for the pod's claims, all of Immediate binding here: a missing or
 * deleted claim, or an unbound one nothing will bind, makes the pod unschedulable with the scheduler's words. One the
 * sandbox's provisioner is about to bind is waited for silently, where a real scheduler may first report it unbound.
 */
export function claimsReadiness(
  claimNames: readonly string[],
  claims: (name: string) => V1PersistentVolumeClaim | undefined,
  classes: readonly V1StorageClass[],
): ClaimsReadiness {
  let unbound = false
  let waiting = false
  for (const name of claimNames) {
    const claim = claims(name)
    if (!claim) return {unschedulable: `persistentvolumeclaim "${name}" not found`}
    if (claim.metadata?.deletionTimestamp) return {unschedulable: `persistentvolumeclaim "${name}" is being deleted`}
    if (claim.status?.phase === 'Bound') continue
    if (willProvision(claim, classes)) waiting = true
    else unbound = true
  }
  if (unbound) return {unschedulable: 'pod has unbound immediate PersistentVolumeClaims'}
  return waiting ? {waiting: true} : {ready: true}
}

import type {V1Node, V1Pod, V1PodAffinityTerm} from '@kubernetes/client-node'

import {labelSelectorMatches, nodeSelectorMatches, nodeSelectorTermsMatch} from './selectors.js'

/**
 * Picking a node for one pod, as kube-scheduler's default profile does for what the sandbox uses: filters
 * (NodeUnschedulable, NodeAffinity incl. nodeSelector, NodeResourcesFit for the pod count, InterPodAffinity
 * required terms both ways), then a score (preferred inter-pod (anti-)affinity, spreading a workload over
 * zones and nodes, fewest pods) with the node name as a deterministic tie-break. A pod that fits nowhere gets
 * the FitError message kube-scheduler writes into its FailedScheduling event and PodScheduled condition.
 */

export const HOSTNAME_LABEL = 'kubernetes.io/hostname'
export const ZONE_LABEL = 'topology.kubernetes.io/zone'
const DEFAULT_MAX_PODS = 110

export type Placement = {node: string} | {unschedulable: string}

/** Why a node was filtered out, and whether preemption could ever help (UnschedulableAndUnresolvable). */
interface Rejection {
  reason: string
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
  if (node.spec?.unschedulable) return {reason: 'node(s) were unschedulable', resolvable: false}
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms
  if (!nodeSelectorMatches(pod.spec?.nodeSelector, labels) || (required && !nodeSelectorTermsMatch(required, node.metadata?.name ?? '', labels))) {
    return {reason: "node(s) didn't match Pod's node affinity/selector", resolvable: false}
  }
  if (podsOnNode.length + 1 > maxPods(node)) return {reason: 'Too many pods', resolvable: true}
  const affinity = pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []
  if (!affinity.every((term) => affinitySatisfied(pod, term, labels, placed))) {
    return {reason: "node(s) didn't match pod affinity rules", resolvable: false}
  }
  const antiAffinity = pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []
  if (antiAffinity.some((term) => matchingInDomain(pod, term, labels, placed).length > 0)) {
    return {reason: "node(s) didn't match pod anti-affinity rules", resolvable: true}
  }
  const existingAntiAffinity = placed.some(({pod: existing, labels: existingNode}) =>
    (existing.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some(
      (term) => sameDomain(term.topologyKey, existingNode, labels) && termSelects(existing, term, pod),
    ),
  )
  if (existingAntiAffinity) return {reason: "node(s) didn't satisfy existing pods anti-affinity rules", resolvable: true}
  return undefined
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
  const filterSummary = histogram(rejections.map((r) => r.reason))
  const preemption = histogram(
    rejections.map((r) => (r.resolvable ? 'No preemption victims found for incoming pod' : 'Preemption is not helpful for scheduling')),
  )
  return `0/${nodeCount} nodes are available: ${filterSummary.join(', ')}. preemption: 0/${nodeCount} nodes are available: ${preemption.join(', ')}.`
}

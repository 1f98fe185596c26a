import {PreconditionError} from '../errors.js'
import {namespaceNotFound} from '../kube/api-errors.js'
import {namespaceIsMissing, type Kube} from '../kube/context.js'
import {stuckPod, waitingReason, warningReader} from '../kube/pod-reasons.js'
import {podAndOwner} from '../kube/ownership.js'
import {listRedisPods, requireRedisPods, type RedisPod} from '../kube/pods.js'
import type {PodRef} from '../topology/model.js'
import {waitUntil} from '../util/wait.js'
import {firstFew, plural} from '../util/words.js'
import type {KubeTargetSession} from './session.js'

const isUsable = (p: RedisPod): boolean => p.phase === 'Running' && p.ready && Boolean(p.ip) && !p.terminating

export interface PodWaitOptions {
  /** Called with what is still missing, the reasons of the pods not Ready included. */
  onWaiting?: (missing: string) => void
  /** A further condition for a pod to count (a restarted pod must run the update revision); says why not, else undefined. */
  pending?: (pod: RedisPod) => string | undefined
  /** Pods that need not be Ready, and do not count: an outdated pod that a rollout restarts anyway. */
  exempt?: (pod: RedisPod) => boolean
}

/**
 * Waits until `count` pods (or, without a count, every matching pod and at least one) are Running, Ready and have an
 * IP. While waiting it says why each pod that is not is held back (its status, the latest Warning of it and its claims),
 * and stops at once with a PodStuckError on a state that will not resolve by itself.
 */
export async function waitForReadyPods(kube: Kube, selector: string, count: number | undefined, timeoutMs: number, options: PodWaitOptions = {}): Promise<RedisPod[]> {
  let namespaceChecked = false
  const warnings = warningReader(kube)
  const pending = (p: RedisPod): string | undefined => (isUsable(p) ? options.pending?.(p) : p.terminating ? 'Terminating' : p.phase)
  return waitUntil(`${count ?? 'all'} pods matching "${selector}" to be Ready`, async () => {
    const listed = await listRedisPods(kube, selector)
    const pods = options.exempt ? listed.filter((p) => !(options.exempt!(p) && !isUsable(p))) : listed
    const wanted = count === undefined ? undefined : count - (listed.length - pods.length)
    // No pod at all may mean no namespace, which waiting would not mend.
    if (listed.length === 0 && !namespaceChecked) {
      namespaceChecked = true
      if (await namespaceIsMissing(kube)) throw namespaceNotFound(kube.namespace)
    }
    const ready = pods.filter((p) => pending(p) === undefined)
    const enough = wanted === undefined ? pods.length > 0 && ready.length === pods.length : ready.length >= wanted
    if (enough) return {done: true, value: ready}
    const held = pods.filter((p) => pending(p) !== undefined)
    const latest = held.some((p) => !isUsable(p)) ? await warnings() : {pods: new Map(), claims: new Map()}
    // A pod being deleted is going away, whatever state it was stuck in.
    for (const pod of held.filter((p) => !p.terminating)) {
      const stuck = stuckPod(pod, latest)
      if (stuck) throw stuck
    }
    const waiting = [...held.map((p) => {
      const why = isUsable(p) ? undefined : waitingReason(p, latest)
      // A pod being deleted is not ready, whatever its status says last.
      return `${p.name} (${pending(p)}${!isUsable(p) && !p.ready && !p.terminating ? ', not ready' : ''}${why ? `: ${why}` : ''})`
    }), ...notCreated(listed, count)]
    return {done: false, missing: `${ready.length} of ${wanted ?? pods.length} ready${waiting.length > 0 ? `; waiting for ${firstFew(waiting)}` : ''}`}
  }, {timeoutMs, intervalMs: 50, onWaiting: options.onWaiting, signal: kube.signal})
}

/**
 * The pods counted on that are not listed at all: deleted and not yet made again, or not yet made by a scale. A
 * StatefulSet's are named by the ordinals missing below `count`; other pods can only be counted.
 */
export function notCreated(listed: readonly RedisPod[], count: number | undefined): string[] {
  if (count === undefined || listed.length >= count) return []
  const [first] = listed
  const prefix = first?.ordinal === undefined ? undefined : first.name.slice(0, first.name.length - String(first.ordinal).length)
  if (prefix === undefined || !listed.every((p) => p.ordinal !== undefined && p.name === `${prefix}${p.ordinal}`)) {
    return [`${plural(count - listed.length, 'pod')} not created yet`]
  }
  const have = new Set(listed.map((p) => p.ordinal))
  return Array.from({length: count}, (_, i) => i).filter((i) => !have.has(i)).map((i) => `${prefix}${i} (not created yet)`)
}

/** The planners' view of a pod; pods outside a StatefulSet are ordered by name. */
export function toPodRefs(pods: RedisPod[]): PodRef[] {
  return pods.filter((p) => p.ip).map((p, index) => ({
    pod: p.name, ordinal: p.ordinal ?? index, ip: p.ip!, port: p.port, k8sNode: p.k8sNode, zone: p.zone,
  }))
}

/**
 * The cluster's name, for a command that needs its StatefulSet, or the ConfigMap and Secrets named after it. Pods
 * that no StatefulSet owns are refused with nothing changed (no pods at all is the usual not-found): such a cluster
 * can be formed, read, checked, repaired and have its slots moved, but not grown, shrunk or rolled.
 */
export async function requireClusterName(target: KubeTargetSession, needs: string): Promise<string> {
  if (target.name !== undefined) return target.name
  const pods = await requireRedisPods(target.kube, target.selector)
  throw new PreconditionError(`No StatefulSet owns the pods selected by -l ${target.selector}: ${pods.slice(0, 3).map(podAndOwner).join(', ')}${pods.length > 3 ? ', ...' : ''}; ${needs}. Nothing was changed.`, [
    'Select the pods of a StatefulSet with -l/--selector, or name it with --name.',
  ])
}

import {namespaceNotFound} from '../kube/api-errors.js'
import {namespaceIsMissing, type Kube} from '../kube/context.js'
import {listRedisPods, type RedisPod} from '../kube/pods.js'
import type {PodRef} from '../topology/model.js'
import {waitUntil} from '../util/wait.js'

const isUsable = (p: RedisPod): boolean => p.phase === 'Running' && p.ready && Boolean(p.ip) && !p.terminating

/** Waits until `count` pods (or, without a count, every matching pod and at least one) are Running, Ready and have an IP. */
export async function waitForReadyPods(kube: Kube, selector: string, count: number | undefined, timeoutMs: number): Promise<RedisPod[]> {
  let namespaceChecked = false
  return waitUntil(`${count ?? 'all'} pods matching "${selector}" to be Ready`, async () => {
    const pods = await listRedisPods(kube, selector)
    // No pod at all may mean no namespace, which waiting would not mend.
    if (pods.length === 0 && !namespaceChecked) {
      namespaceChecked = true
      if (await namespaceIsMissing(kube)) throw namespaceNotFound(kube.namespace)
    }
    const ready = pods.filter(isUsable)
    const enough = count === undefined ? pods.length > 0 && ready.length === pods.length : ready.length >= count
    if (enough) return {done: true, value: ready}
    const waiting = pods.filter((p) => !isUsable(p)).map((p) => `${p.name} (${p.terminating ? 'Terminating' : p.phase}${p.ready ? '' : ', not ready'})`)
    return {done: false, missing: `${ready.length} of ${count ?? pods.length} ready${waiting.length > 0 ? `; waiting for ${waiting.join(', ')}` : ''}`}
  }, {timeoutMs, intervalMs: 50, signal: kube.signal})
}

/** The planners' view of a pod; pods outside a StatefulSet are ordered by name. */
export function toPodRefs(pods: RedisPod[]): PodRef[] {
  return pods.filter((p) => p.ip).map((p, index) => ({
    pod: p.name, ordinal: p.ordinal ?? index, ip: p.ip!, port: p.port, k8sNode: p.k8sNode, zone: p.zone,
  }))
}

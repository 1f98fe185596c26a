import {namespaceNotFound} from '../kube/api-errors.js'
import {namespaceIsMissing, type Kube} from '../kube/context.js'
import {deleteObject, listNames, type DeletableKind, type DeletedObject} from '../kube/delete.js'
import {listRedisPods} from '../kube/pods.js'
import {MANAGED_BY} from '../manifests/labels.js'
import {waitUntil} from '../util/wait.js'

/** What teardown would delete; in this order, so that nothing recreates what was just deleted. */
const ORDER: DeletableKind[] = ['StatefulSet', 'PodDisruptionBudget', 'Service', 'ConfigMap', 'Secret']

export interface TeardownPlan {
  selector: string
  objects: DeletedObject[]
  pvcs: DeletedObject[]
  pods: string[]
  withPvcs: boolean
}

export interface TeardownResult {
  deleted: DeletedObject[]
  keptPvcs: string[]
  nothingToDo: boolean
}

/** Only what redisctl created: whatever the user's selector, the managed-by label is required too. */
export function teardownSelector(selector: string): string {
  return selector.includes(`${MANAGED_BY}=`) ? selector : `${selector},${MANAGED_BY}=redisctl`
}

export async function planTeardown(kube: Kube, selector: string, withPvcs: boolean): Promise<TeardownPlan> {
  const ownSelector = teardownSelector(selector)
  const [named, pvcs, pods] = await Promise.all([
    Promise.all(ORDER.map(async (kind) => (await listNames(kube, kind, ownSelector)).map((name) => ({kind, name})))),
    listNames(kube, 'PersistentVolumeClaim', ownSelector),
    listRedisPods(kube, ownSelector),
  ])
  const plan: TeardownPlan = {
    selector: ownSelector,
    objects: named.flat(),
    pvcs: pvcs.map((name) => ({kind: 'PersistentVolumeClaim' as const, name})),
    pods: pods.map((p) => p.name),
    withPvcs,
  }
  // Nothing found may mean no namespace: tearing down a mistyped -n must not pass for done.
  if (teardownIsEmpty(plan) && await namespaceIsMissing(kube)) throw namespaceNotFound(kube.namespace)
  return plan
}

export const teardownIsEmpty = (plan: TeardownPlan): boolean =>
  plan.objects.length === 0 && plan.pods.length === 0 && (!plan.withPvcs || plan.pvcs.length === 0)

/** Deletes the objects; each lands in `into.deleted`, or in `into.alreadyGone` when something else deleted it first. */
export async function deleteObjects(kube: Kube, objects: DeletedObject[], into: {deleted: DeletedObject[]; alreadyGone: DeletedObject[]}): Promise<void> {
  await Promise.all(objects.map(async (o) => {
    (await deleteObject(kube, o.kind, o.name) ? into.deleted : into.alreadyGone).push(o)
  }))
}

/** "Services, ConfigMap and Secret": the kinds of `objects`, in teardown's order, as a step's title names them. */
export function kindsWords(objects: readonly DeletedObject[]): string {
  const counts = new Map<string, number>()
  for (const o of objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1)
  const words = [...counts].map(([kind, n]) => (n === 1 ? kind : `${kind}s`))
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`
}

export async function waitForPodsGone(kube: Kube, selector: string, timeoutMs: number): Promise<void> {
  await waitUntil('the pods to be gone', async () => {
    const left = (await listRedisPods(kube, selector)).map((p) => p.name)
    return left.length === 0 ? {done: true, value: undefined} : {done: false, missing: `still present: ${left.join(', ')}`}
  }, {timeoutMs, intervalMs: 50, signal: kube.signal})
}

export async function waitForPvcsGone(kube: Kube, selector: string, timeoutMs: number): Promise<void> {
  await waitUntil('the PersistentVolumeClaims to be gone', async () => {
    const left = await listNames(kube, 'PersistentVolumeClaim', selector)
    return left.length === 0 ? {done: true, value: undefined} : {done: false, missing: `still present: ${left.join(', ')}`}
  }, {timeoutMs, intervalMs: 50, signal: kube.signal})
}

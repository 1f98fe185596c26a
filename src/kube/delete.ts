import {httpStatus} from './api-errors.js'
import type {Kube} from './context.js'
import {naturalOrder} from '../util/words.js'

/** What teardown removes, in an order that stops pods from being recreated first. */
export type DeletableKind = 'StatefulSet' | 'PodDisruptionBudget' | 'Service' | 'ConfigMap' | 'Secret' | 'PersistentVolumeClaim'

export interface DeletedObject {
  kind: DeletableKind
  name: string
}

/** Names of objects of `kind` matching the selector in the namespace. */
export async function listNames(kube: Kube, kind: DeletableKind, selector: string): Promise<string[]> {
  const namespace = kube.namespace
  const opts = {namespace, labelSelector: selector}
  const doing = `listing ${kind}s with selector "${selector}"`
  const list = await kube.call(doing, async () => {
    switch (kind) {
      case 'StatefulSet': return (await kube.apps.listNamespacedStatefulSet(opts)).items
      case 'PodDisruptionBudget': return (await kube.policy.listNamespacedPodDisruptionBudget(opts)).items
      case 'Service': return (await kube.core.listNamespacedService(opts)).items
      case 'ConfigMap': return (await kube.core.listNamespacedConfigMap(opts)).items
      case 'Secret': return (await kube.core.listNamespacedSecret(opts)).items
      case 'PersistentVolumeClaim': return (await kube.core.listNamespacedPersistentVolumeClaim(opts)).items
    }
  })
  return list.map((o) => o.metadata?.name ?? '').filter(Boolean).sort(naturalOrder)
}

/**
 * Deletes one object: true once deleted, false when it was gone already (teardown is idempotent, and says which
 * objects it deleted and which something else had).
 */
export async function deleteObject(kube: Kube, kind: DeletableKind, name: string): Promise<boolean> {
  const namespace = kube.namespace
  const target = {name, namespace, propagationPolicy: 'Background'}
  const deleted = await kube.find(`deleting ${kind} ${name}`, async () => {
    await deleteCall()
    return true
  })
  return deleted ?? false

  function deleteCall(): Promise<unknown> {
    switch (kind) {
      case 'StatefulSet': return kube.apps.deleteNamespacedStatefulSet(target)
      case 'PodDisruptionBudget': return kube.policy.deleteNamespacedPodDisruptionBudget(target)
      case 'Service': return kube.core.deleteNamespacedService(target)
      case 'ConfigMap': return kube.core.deleteNamespacedConfigMap(target)
      case 'Secret': return kube.core.deleteNamespacedSecret(target)
      case 'PersistentVolumeClaim': return kube.core.deleteNamespacedPersistentVolumeClaim(target)
    }
  }
}

/**
 * Deletes a pod (its StatefulSet makes it again); given its uid, only that incarnation: a pod the StatefulSet has
 * already made again is left alone. A pod already gone is no error.
 */
export async function deletePod(kube: Kube, name: string, uid?: string): Promise<void> {
  try {
    await kube.core.deleteNamespacedPod({name, namespace: kube.namespace, ...(uid ? {body: {preconditions: {uid}}} : {})})
  } catch (error) {
    // 409: the uid differs, so this incarnation is gone and the StatefulSet made the pod again.
    if (httpStatus(error) === 404 || httpStatus(error) === 409) return
    await kube.call(`deleting pod ${name}`, () => Promise.reject(error))
  }
}

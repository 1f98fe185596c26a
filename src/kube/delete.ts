import {isNotFound} from './api-errors.js'
import type {Kube} from './context.js'

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
  return list.map((o) => o.metadata?.name ?? '').filter(Boolean)
}

/** Deletes one object; one that is already gone counts as deleted (teardown is idempotent). */
export async function deleteObject(kube: Kube, kind: DeletableKind, name: string): Promise<void> {
  const namespace = kube.namespace
  const target = {name, namespace, propagationPolicy: 'Background'}
  await kube.call(`deleting ${kind} ${name}`, async () => {
    try {
      switch (kind) {
        case 'StatefulSet': await kube.apps.deleteNamespacedStatefulSet(target); break
        case 'PodDisruptionBudget': await kube.policy.deleteNamespacedPodDisruptionBudget(target); break
        case 'Service': await kube.core.deleteNamespacedService(target); break
        case 'ConfigMap': await kube.core.deleteNamespacedConfigMap(target); break
        case 'Secret': await kube.core.deleteNamespacedSecret(target); break
        case 'PersistentVolumeClaim': await kube.core.deleteNamespacedPersistentVolumeClaim(target); break
      }
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  })
}

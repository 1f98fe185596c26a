import {PatchStrategy, setHeaderOptions} from '@kubernetes/client-node'
import type {V1StatefulSet} from '@kubernetes/client-node'

import type {Kube} from './context.js'

export async function readStatefulSet(kube: Kube, name: string): Promise<V1StatefulSet | undefined> {
  return kube.find(`reading StatefulSet ${name}`, () => kube.apps.readNamespacedStatefulSet({name, namespace: kube.namespace}))
}

/** Sets spec.replicas through the scale subresource, as `kubectl scale` does. */
export async function scaleStatefulSet(kube: Kube, name: string, replicas: number): Promise<void> {
  await kube.call(`scaling StatefulSet ${name} to ${replicas} pods`, () =>
    kube.apps.patchNamespacedStatefulSetScale({name, namespace: kube.namespace, body: {spec: {replicas}}},
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch)))
}

/** Sets one annotation of the StatefulSet, or removes it (undefined); metadata only, so no pod is rolled. */
export async function annotateStatefulSet(kube: Kube, name: string, key: string, value: string | undefined): Promise<void> {
  await kube.call(`annotating StatefulSet ${name}`, () =>
    kube.apps.patchNamespacedStatefulSet({name, namespace: kube.namespace, body: {metadata: {annotations: {[key]: value ?? null}}}},
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch)))
}

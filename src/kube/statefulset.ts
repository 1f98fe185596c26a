import {PatchStrategy, setHeaderOptions} from '@kubernetes/client-node'
import type {V1ControllerRevision, V1PodTemplateSpec, V1StatefulSet} from '@kubernetes/client-node'

import type {Kube} from './context.js'
import {plural} from '../util/words.js'

export async function readStatefulSet(kube: Kube, name: string): Promise<V1StatefulSet | undefined> {
  return kube.find(`reading StatefulSet ${name}`, () => kube.apps.readNamespacedStatefulSet({name, namespace: kube.namespace}))
}

/** Sets spec.replicas through the scale subresource, as `kubectl scale` does. */
export async function scaleStatefulSet(kube: Kube, name: string, replicas: number): Promise<void> {
  await kube.call(`scaling StatefulSet ${name} to ${plural(replicas, 'pod')}`, () =>
    kube.apps.patchNamespacedStatefulSetScale({name, namespace: kube.namespace, body: {spec: {replicas}}},
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch)))
}

/** Sets one annotation of the StatefulSet, or removes it (undefined); metadata only, so no pod is rolled. */
export async function annotateStatefulSet(kube: Kube, name: string, key: string, value: string | undefined): Promise<void> {
  await kube.call(`annotating StatefulSet ${name}`, () =>
    kube.apps.patchNamespacedStatefulSet({name, namespace: kube.namespace, body: {metadata: {annotations: {[key]: value ?? null}}}},
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch)))
}

/**
 * Writes the pod template (and, when given, the update strategy and the set's annotations) in one JSON patch: a template change and the switch
 * to OnDelete must land together, or the controller would start its own roll in between.
 */
export async function replaceTemplate(kube: Kube, name: string, template: V1PodTemplateSpec, options: {onDelete?: boolean; annotations?: Record<string, string>} = {}): Promise<void> {
  const ops: object[] = [{op: 'replace', path: '/spec/template', value: template}]
  if (options.onDelete) ops.push({op: 'replace', path: '/spec/updateStrategy', value: {type: 'OnDelete'}})
  // `add` of the whole map works whether the set has annotations or not.
  if (options.annotations) ops.push({op: 'add', path: '/metadata/annotations', value: options.annotations})
  await kube.call(`updating the pod template of StatefulSet ${name}`, () =>
    kube.apps.patchNamespacedStatefulSet({name, namespace: kube.namespace, body: ops}, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)))
}

/** The set's ControllerRevisions (the templates it has run), oldest first. */
export async function controllerRevisions(kube: Kube, set: V1StatefulSet): Promise<V1ControllerRevision[]> {
  const selector = Object.entries(set.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')
  const list = await kube.call(`listing the ControllerRevisions of StatefulSet ${set.metadata?.name}`, () =>
    kube.apps.listNamespacedControllerRevision({namespace: kube.namespace, labelSelector: selector}))
  return list.items.filter((r) => r.metadata?.ownerReferences?.some((o) => o.uid === set.metadata?.uid)).sort((a, b) => a.revision - b.revision)
}

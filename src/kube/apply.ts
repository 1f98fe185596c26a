import type {KubernetesObject} from '@kubernetes/client-node'

import type {Kube} from './context.js'

/** What `cluster create` does (or, in a dry run, would do) with each object: it never patches one that exists. */
export type ApplyAction = 'created' | 'unchanged'

export interface AppliedObject {
  kind: string
  name: string
  action: ApplyAction
}

const describe = (o: KubernetesObject): string => `${o.kind}/${o.metadata?.name}`

const inNamespace = (kube: Kube, object: KubernetesObject): KubernetesObject =>
  ({...object, metadata: {...object.metadata, namespace: object.metadata?.namespace ?? kube.namespace}})

/** Which of the objects exist already (read, nothing changed): the plan a run and its dry run share. */
export async function planObjects(kube: Kube, objects: readonly KubernetesObject[]): Promise<AppliedObject[]> {
  return Promise.all(objects.map(async (object) => {
    const spec = inNamespace(kube, object)
    const exists = (await kube.find(`reading ${describe(spec)}`, () =>
      kube.objects.read({apiVersion: spec.apiVersion, kind: spec.kind, metadata: {name: spec.metadata!.name!, namespace: spec.metadata!.namespace}}))) !== undefined
    return {kind: spec.kind!, name: spec.metadata!.name!, action: exists ? 'unchanged' as const : 'created' as const}
  }))
}

/** Creates the objects the plan found missing, in order (a StatefulSet last, once what its pods mount is there). */
export async function createObjects(kube: Kube, objects: readonly KubernetesObject[], plan: readonly AppliedObject[]): Promise<void> {
  for (const [i, object] of objects.entries()) {
    if (plan[i].action !== 'created') continue
    const spec = inNamespace(kube, object)
    await kube.call(`creating ${describe(spec)}`, () => kube.objects.create(spec, undefined, undefined, 'redisctl'))
  }
}

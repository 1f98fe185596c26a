import type {KubernetesObject} from '@kubernetes/client-node'
import {PatchStrategy} from '@kubernetes/client-node'

import type {Kube} from './context.js'

export type ApplyAction = 'created' | 'configured'

export interface AppliedObject {
  kind: string
  name: string
  action: ApplyAction
}

const describe = (o: KubernetesObject): string => `${o.kind}/${o.metadata?.name}`

/**
 * Creates each object, or merge-patches it when it exists, like `kubectl apply` without the last-applied
 * annotation: redisctl owns these objects, so its spec wins on every field it sets.
 */
export async function applyObjects(kube: Kube, objects: KubernetesObject[]): Promise<AppliedObject[]> {
  const applied: AppliedObject[] = []
  for (const object of objects) {
    const spec = {...object, metadata: {...object.metadata, namespace: object.metadata?.namespace ?? kube.namespace}}
    const exists = (await kube.find(`reading ${describe(spec)}`, () =>
      kube.objects.read({apiVersion: spec.apiVersion, kind: spec.kind, metadata: {name: spec.metadata.name!, namespace: spec.metadata.namespace}}))) !== undefined
    if (exists) {
      await kube.call(`updating ${describe(spec)}`, () =>
        kube.objects.patch(spec, undefined, undefined, 'redisctl', undefined, PatchStrategy.MergePatch))
    } else {
      await kube.call(`creating ${describe(spec)}`, () => kube.objects.create(spec, undefined, undefined, 'redisctl'))
    }
    applied.push({kind: spec.kind!, name: spec.metadata.name!, action: exists ? 'configured' : 'created'})
  }
  return applied
}

import type {V1StatefulSet} from '@kubernetes/client-node'

import {isNotFound} from './api-errors.js'
import type {Kube} from './context.js'

export async function readStatefulSet(kube: Kube, name: string): Promise<V1StatefulSet | undefined> {
  return kube.call(`reading StatefulSet ${name}`, async () => {
    try {
      return await kube.apps.readNamespacedStatefulSet({name, namespace: kube.namespace})
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  })
}

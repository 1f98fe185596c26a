import type {V1StatefulSet} from '@kubernetes/client-node'

import {NotFoundError, PreconditionError} from '../errors.js'
import {notFoundIn, type Kube} from '../kube/context.js'
import {readStatefulSet} from '../kube/statefulset.js'
import {sentences} from '../util/words.js'

/** What every command that changes the cluster's size checks before it acts. */

export async function requireStatefulSet(kube: Kube, name: string): Promise<V1StatefulSet> {
  const sts = await readStatefulSet(kube, name)
  if (!sts) {
    throw await notFoundIn(kube, new NotFoundError(`There is no StatefulSet ${name} in namespace ${kube.namespace}.`, [
      'Pass --name of a cluster made by redisctl cluster create (kubectl get statefulsets).',
    ]))
  }
  return sts
}

/** Changing a cluster with blocking findings (blockingFindings) makes it harder to mend; --force is how the user insists. */
export function refuseUnhealthy(blocking: readonly string[], force: boolean): void {
  if (blocking.length > 0 && !force) {
    throw new PreconditionError(`The cluster is not healthy, so nothing was changed: ${sentences(blocking)}`, [
      'Run redisctl check to see every finding, redisctl repair to fix them, or pass --force to go ahead anyway.',
    ])
  }
}

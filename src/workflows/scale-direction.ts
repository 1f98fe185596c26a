import {shapeOf, shapePodCount, wantedShape, type ClusterShape} from '../topology/shape.js'
import {inspectCluster} from './inspect.js'
import {requireStatefulSet} from './preconditions.js'
import type {KubeTargetSession, TargetOptions} from './session.js'

/**
 * The shape `scale` goes to (flags left out keep what the cluster has: `--masters 4` on 4x2 stays at 2 replicas
 * each) and which way: by the pod count the shape needs against the StatefulSet's; at the same count, in when
 * fewer masters are wanted than own slots today (say 6x1 to 4x2), else out, which also finishes a scale out whose
 * StatefulSet had already grown when it was interrupted. A scale in killed after the StatefulSet shrank also ends
 * at the same count: with --delete-pvcs it goes in again, since only scale in deletes the PersistentVolumeClaims
 * of the removed pods.
 */
export async function scaleDirection(target: KubeTargetSession, options: TargetOptions, statefulSet: string, given: Partial<ClusterShape>,
  deletePvcs: boolean): Promise<{direction: 'in' | 'out'; shape: ClusterShape}> {
  const sts = await requireStatefulSet(target.kube, statefulSet)
  const current = sts.spec?.replicas ?? 0
  const {topology} = await inspectCluster(options, target)
  const now = shapeOf(topology)
  const shape = wantedShape(given, now)
  const wanted = shapePodCount(shape)
  if (wanted !== current) return {direction: wanted < current ? 'in' : 'out', shape}
  return {direction: shape.masters < now.masters || (deletePvcs && shape.masters === now.masters) ? 'in' : 'out', shape}
}

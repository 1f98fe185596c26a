import {shapePodCount, type ClusterShape} from '../topology/shape.js'
import {inspectCluster} from './inspect.js'
import {requireStatefulSet} from './preconditions.js'
import type {KubeTargetSession, TargetOptions} from './session.js'

/**
 * Which way `scale` goes: by the pod count the shape needs against the StatefulSet's; at the same count, in
 * when fewer masters are wanted than own slots today (say 6x1 to 4x2), else out, which also finishes a scale
 * out whose StatefulSet had already grown when it was interrupted. A scale in killed after the StatefulSet
 * shrank also ends at the same count: with --delete-pvcs it goes in again, since only scale in deletes the
 * PersistentVolumeClaims of the removed pods.
 */
export async function scaleDirection(target: KubeTargetSession, options: TargetOptions, statefulSet: string, shape: ClusterShape,
  deletePvcs: boolean): Promise<'in' | 'out'> {
  const sts = await requireStatefulSet(target.kube, statefulSet)
  const current = sts.spec?.replicas ?? 0
  const wanted = shapePodCount(shape)
  if (wanted !== current) return wanted < current ? 'in' : 'out'
  const {topology} = await inspectCluster(options, target)
  const masters = topology.nodes.filter((n) => n.pod && n.role === 'master' && n.slotCount > 0).length
  return shape.masters < masters || (deletePvcs && shape.masters === masters) ? 'in' : 'out'
}

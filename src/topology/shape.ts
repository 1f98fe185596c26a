import {UsageError} from '../errors.js'
import type {Topology} from './model.js'
import {agree, plural, shapeWords} from '../util/words.js'

/** How many masters, and how many replicas each: a cluster's shape. */
export interface ClusterShape {
  masters: number
  replicasPerMaster: number
}

export const MIN_MASTERS = 3

export const shapePodCount = (shape: ClusterShape): number => shape.masters * (1 + shape.replicasPerMaster)

/** Redis Cluster needs a majority of at least 3 masters to fail over; fewer is refused before anything changes. */
export function requireValidShape(shape: ClusterShape): ClusterShape {
  if (!Number.isInteger(shape.masters) || shape.masters < MIN_MASTERS) {
    throw new UsageError(`A Redis Cluster needs at least ${MIN_MASTERS} masters; ${shape.masters} were asked for.`, [
      `Use --masters ${MIN_MASTERS} or more.`,
    ])
  }
  if (!Number.isInteger(shape.replicasPerMaster) || shape.replicasPerMaster < 0) {
    throw new UsageError(`--replicas-per-master must be 0 or more; got ${shape.replicasPerMaster}.`)
  }
  return shape
}

/**
 * The shape for pods someone else deployed: the pod count must split into masters with R replicas each.
 * When --masters is given too, the counts must agree.
 */
export function shapeForPods(podCount: number, replicasPerMaster: number, masters?: number): ClusterShape {
  const perShard = 1 + replicasPerMaster
  if (masters !== undefined) {
    const shape = requireValidShape({masters, replicasPerMaster})
    if (shapePodCount(shape) !== podCount) {
      throw new UsageError(`${plural(podCount, 'pod')} ${agree(podCount, 'matches', 'match')}, but ${shapeWords({masters, replicasPerMaster})} need ${shapePodCount(shape)}.`, [
        'Change --masters / --replicas-per-master, or scale the StatefulSet to that many pods.',
      ])
    }
    return shape
  }
  if (podCount % perShard !== 0) {
    throw new UsageError(`${plural(podCount, 'pod')} cannot form masters with ${plural(replicasPerMaster, 'replica')} each: the count must be a multiple of ${perShard}.`, [
      `Scale the StatefulSet to a multiple of ${plural(perShard, 'pod')}, or pass --replicas-per-master to match.`,
    ])
  }
  return requireValidShape({masters: podCount / perShard, replicasPerMaster})
}

/**
 * The shape the cluster has: its masters that own slots, and the most replicas any of them has (a replica whose
 * pod is down for a moment, or a scale out that stopped halfway, does not lower what the user asked for before).
 */
export function shapeOf(topology: Topology): ClusterShape {
  const masters = topology.nodes.filter((n) => n.pod && n.role === 'master' && n.slotCount > 0 && n.id)
  const replicas = masters.map((m) => topology.nodes.filter((n) => n.pod && n.role === 'replica' && n.masterId === m.id).length)
  return {masters: masters.length, replicasPerMaster: Math.max(0, ...replicas)}
}

/** The shape a command asks for: what its flags say, and what the cluster has for the flags left out. */
export const wantedShape = (given: Partial<ClusterShape>, current: ClusterShape): ClusterShape => requireValidShape({
  masters: given.masters ?? current.masters,
  replicasPerMaster: given.replicasPerMaster ?? current.replicasPerMaster,
})

import {UsageError} from '../errors.js'
import {podName, type Topology, type TopologyNode} from './model.js'
import {planReshard, type SlotMove} from './rebalance.js'
import {requireNode} from './remove-node-plan.js'

/** `slots reshard` as the command line says it: pods by name. */
export interface ReshardInput {
  from: string
  /** One receiving master; absent: every other master that owns slots. */
  to?: string
  /** How many slots; absent: all the source owns. */
  slots?: number
}

/**
 * The ends of a reshard, refused before anything changes when one is not a master: a replica owns no slots, so
 * "nothing to move" would hide that the command named the wrong pod (roles drift after failovers).
 */
/** What the flags alone get wrong, checked before anything is read or changed. */
export function requireDistinctEnds(input: ReshardInput): void {
  if (input.to === input.from) throw new UsageError('--from and --to name the same master.')
}

export function requireReshardEnds(topology: Topology, input: ReshardInput): {source: TopologyNode; receivers: TopologyNode[]} {
  requireDistinctEnds(input)
  const source = requireMasterFor('--from', topology, input.from)
  const receivers = input.to ? [requireMasterFor('--to', topology, input.to)] :
    topology.nodes.filter((n) => n.pod && n.role === 'master' && n.slotCount > 0 && n !== source)
  return {source, receivers}
}

function requireMasterFor(flag: string, topology: Topology, pod: string): TopologyNode {
  const node = requireNode(topology, pod)
  if (node.role === 'master') return node
  const master = topology.nodes.find((n) => n.id === node.masterId)
  const masters = topology.nodes.filter((n) => n.pod && n.role === 'master' && n.slotCount > 0).map(podName)
  throw new UsageError(`${flag} ${pod} is a replica${master ? ` of ${podName(master)}` : ''}: only masters own slots, so nothing was moved.`, [
    `Name a master that owns slots: ${masters.join(', ')} (redisctl status lists the roles).`,
  ])
}

/** The moves of `slots reshard` on the cluster as observed; none when the source owns no slots (any more). */
export function planPodReshard(topology: Topology, input: ReshardInput): SlotMove[] {
  const {source, receivers} = requireReshardEnds(topology, input)
  if (source.slotCount === 0) return []
  const masters = topology.nodes.filter((n) => n.role === 'master' && n.id).map((m) => ({id: m.id!, slots: m.slots}))
  return planReshard(masters, source.id!, receivers.map((r) => r.id!), input.slots === undefined ? undefined : Math.min(input.slots, source.slotCount))
}

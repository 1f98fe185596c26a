import type {Topology} from './model.js'
import type {ScaleInPlan} from './scale-in-plan.js'
import {countSlots} from './slots.js'

export interface MemoryShortfall {
  pod: string
  projectedBytes: number
  maxMemoryBytes: number
}

/**
 * The masters that stay and would hold more than their maxmemory once the drained masters' data is spread over
 * them: each receives a drained master's used memory in proportion to the slots it gets from it. Masters without
 * a maxmemory limit never fall short.
 */
export function memoryShortfalls(topology: Topology, plan: ScaleInPlan): MemoryShortfall[] {
  const byId = new Map(topology.nodes.flatMap((n) => (n.id ? [[n.id, n] as const] : [])))
  const byPod = new Map(topology.nodes.flatMap((n) => (n.pod ? [[n.pod.pod, n] as const] : [])))
  const promotedFrom = new Map(plan.failovers.map((f) => [f.replicaId, f.masterId]))
  return plan.layout.shards.flatMap(({master}) => {
    const node = byPod.get(master.pod)
    if (!node?.id || !node.maxMemory) return []
    const dataHolder = byId.get(promotedFrom.get(node.id) ?? node.id)
    let projected = dataHolder?.usedMemory ?? node.usedMemory ?? 0
    for (const move of plan.moves.filter((m) => m.to === node.id)) {
      const from = byId.get(move.from)
      if (from?.usedMemory && from.slotCount > 0) projected += from.usedMemory * (countSlots(move.slots) / from.slotCount)
    }
    return projected > node.maxMemory ? [{pod: master.pod, projectedBytes: Math.round(projected), maxMemoryBytes: node.maxMemory}] : []
  })
}

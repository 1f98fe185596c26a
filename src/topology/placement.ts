import {PreconditionError} from '../errors.js'
import type {PodRef} from './model.js'
import {agree, plural, shapeWords} from '../util/words.js'

/** A master and the replicas that follow it. */
export interface Shard {
  master: PodRef
  replicas: PodRef[]
}

/** A replica that would lose its data together with its master when one Kubernetes node or zone goes away. */
export interface PlacementViolation {
  kind: 'same-node' | 'same-zone'
  master: PodRef
  replica: PodRef
  /** The node or zone they share. */
  where: string
}

export interface Placement {
  /** Masters in ordinal order; slot ranges are handed out in this order. */
  shards: Shard[]
  /** Pods the placement does not use. */
  spare: PodRef[]
  violations: PlacementViolation[]
}

/**
 * Chooses M masters and R replicas for each so that no replica shares a Kubernetes node (and, when zones are
 * labelled, a zone) with its master whenever the pods allow it; then spreads masters over nodes and zones, keeps
 * a master's replicas on different nodes, and prefers the lowest ordinals. Where the pods cannot satisfy this,
 * the placement is still made and every remaining violation is listed.
 */
export function placeShards(pods: readonly PodRef[], masters: number, replicasPerMaster: number, options: {besideMasters?: readonly PodRef[]} = {}): Placement {
  const needed = masters * (1 + replicasPerMaster)
  if (pods.length < needed) {
    throw new PreconditionError(`${shapeWords({masters, replicasPerMaster})} need ${plural(needed, 'pod')}, but there are ${pods.length}.`)
  }
  const sorted = [...pods].sort(byOrdinal)
  const bound = {
    sameNode: violationLowerBound(sorted, masters, replicasPerMaster, (p) => p.k8sNode),
    shared: violationLowerBound(sorted, masters, replicasPerMaster, (p) => p.zone),
  }
  const optimal = (c: Candidate): boolean => score(c).sameNode <= bound.sameNode && c.placement.violations.length <= bound.shared
  let best = evaluate(sorted, greedyMasters(sorted, masters, options.besideMasters ?? []), replicasPerMaster)
  // Spreading masters first is right unless a crowded node or zone then has too many masters for its
  // replicas to go elsewhere; a few swaps of violating masters for pods elsewhere fix that.
  for (let round = 0; round < masters * replicasPerMaster && !optimal(best); round++) {
    const better = firstBetterSwap(sorted, best, replicasPerMaster)
    if (!better) break
    best = better
  }
  return best.placement
}

/**
 * Adds replicas from `candidates` until every shard has `replicasPerMaster`, with the same preferences as
 * placeShards (existing replicas stay where they are). Violations cover existing and new replicas alike.
 */
export function placeReplicas(shards: readonly Shard[], candidates: readonly PodRef[], replicasPerMaster: number): Placement {
  const missing = shards.reduce((n, s) => n + Math.max(0, replicasPerMaster - s.replicas.length), 0)
  if (candidates.length < missing) {
    throw new PreconditionError(`${plural(missing, 'more replica', 'more replicas')} ${agree(missing, 'is', 'are')} needed, but only ${plural(candidates.length, 'pod')} ${agree(candidates.length, 'is', 'are')} free.`)
  }
  return assignReplicas(shards, [...candidates].sort(byOrdinal), replicasPerMaster).placement
}

export function placementViolations(shards: readonly Shard[]): PlacementViolation[] {
  const violations: PlacementViolation[] = []
  for (const {master, replicas} of shards) {
    for (const replica of replicas) {
      if (master.k8sNode && master.k8sNode === replica.k8sNode) violations.push({kind: 'same-node', master, replica, where: master.k8sNode})
      else if (master.zone && master.zone === replica.zone) violations.push({kind: 'same-zone', master, replica, where: master.zone})
    }
  }
  return violations
}

const byOrdinal = (a: PodRef, b: PodRef): number => a.ordinal - b.ordinal || a.pod.localeCompare(b.pod)

/** `beside`: masters the cluster already has (a scale out), whose nodes and zones count as taken. */
function greedyMasters(pods: readonly PodRef[], count: number, beside: readonly PodRef[]): PodRef[] {
  const chosen: PodRef[] = []
  const perZone = new Map<string, number>()
  const perNode = new Map<string, number>()
  const take = (master: PodRef): void => {
    if (master.zone) perZone.set(master.zone, (perZone.get(master.zone) ?? 0) + 1)
    if (master.k8sNode) perNode.set(master.k8sNode, (perNode.get(master.k8sNode) ?? 0) + 1)
  }
  for (const master of beside) take(master)
  const rest = [...pods]
  while (chosen.length < count) {
    const load = (p: PodRef): [number, number] => [perZone.get(p.zone ?? '') ?? 0, perNode.get(p.k8sNode ?? '') ?? 0]
    let pick = 0
    for (let i = 1; i < rest.length; i++) {
      const [z, n] = load(rest[i])
      const [bz, bn] = load(rest[pick])
      if (z < bz || (z === bz && n < bn)) pick = i
    }
    const [master] = rest.splice(pick, 1)
    chosen.push(master)
    take(master)
  }
  return chosen
}

interface Candidate {
  masters: PodRef[]
  placement: Placement
  /** The replica assignment's cost (sibling spreading, ordinals), for tie-breaking. */
  flowCost: Cost
}

function evaluate(pods: readonly PodRef[], masters: PodRef[], replicasPerMaster: number): Candidate {
  const isMaster = new Set(masters)
  const shards = [...masters].sort(byOrdinal).map((master) => ({master, replicas: []}))
  const {placement, cost} = assignReplicas(shards, pods.filter((p) => !isMaster.has(p)), replicasPerMaster)
  return {masters, placement, flowCost: cost}
}

/** Compared in order: fewer same-node pairs, fewer same-zone pairs, masters spread, cheaper replicas, lower master ordinals. */
type Score = [sameNode: number, sameZone: number, masterCrowding: number, ...flow: Cost, masterOrdinals: number]

function score(c: Candidate): {sameNode: number; key: Score} {
  const sameNode = c.placement.violations.filter((v) => v.kind === 'same-node').length
  const crowd = crowding(c.masters, (p) => p.zone) + crowding(c.masters, (p) => p.k8sNode)
  return {sameNode, key: [sameNode, c.placement.violations.length - sameNode, crowd, ...c.flowCost, c.masters.reduce((n, p) => n + p.ordinal, 0)]}
}

/** Masters beyond an even share per node (or zone), summed: 0 when masters are spread as evenly as they can be. */
function crowding(masters: readonly PodRef[], key: (p: PodRef) => string | undefined): number {
  const counts = countBy(masters, key)
  const share = Math.ceil(masters.length / Math.max(1, counts.size))
  return [...counts.values()].reduce((n, c) => n + Math.max(0, c - share), 0)
}

function countBy(pods: readonly PodRef[], key: (p: PodRef) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>()
  for (const p of pods) {
    const k = key(p)
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  return counts
}

function firstBetterSwap(pods: readonly PodRef[], current: Candidate, replicasPerMaster: number): Candidate | undefined {
  const currentKey = score(current).key
  const violating = new Set(current.placement.violations.map((v) => v.master))
  const others = pods.filter((p) => !current.masters.includes(p))
  for (const master of current.masters.filter((m) => violating.has(m))) {
    for (const other of others) {
      if (other.k8sNode === master.k8sNode && other.zone === master.zone) continue
      const candidate = evaluate(pods, current.masters.map((m) => (m === master ? other : m)), replicasPerMaster)
      if (compare(score(candidate).key, currentKey) < 0) return candidate
    }
  }
  return undefined
}

/**
 * No choice of masters can leave fewer master/replica pairs sharing a domain (node or zone): a domain holding
 * p pods, of which at least p - spare are used and at least M - (pods elsewhere) are masters, has that many
 * more replicas than places for them with masters elsewhere.
 */
function violationLowerBound(pods: readonly PodRef[], masters: number, replicasPerMaster: number, domain: (p: PodRef) => string | undefined): number {
  const spare = pods.length - masters * (1 + replicasPerMaster)
  let worst = 0
  for (const count of countBy(pods, domain).values()) {
    const used = Math.max(0, count - spare)
    const mastersThere = Math.max(0, masters - (pods.length - count))
    worst = Math.max(worst, used + (replicasPerMaster - 1) * mastersThere - replicasPerMaster * masters)
  }
  return worst
}

/**
 * Costs of the replica assignment, compared in this order: sharing a node with the master, sharing its zone,
 * two replicas of one master on one node, higher candidate ordinals, then pairing low ordinals with low ordinals.
 * Compared as tuples, so no weighting can overflow into the tier above.
 */
type Cost = [sameNode: number, sameZone: number, siblings: number, ordinal: number, pairing: number]

const ZERO: Cost = [0, 0, 0, 0, 0]

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

/**
 * Min-cost assignment of candidates (sorted by ordinal) to the shards' missing replica places. Candidates on the
 * same Kubernetes node and zone cost the same for every shard but for their ordinal, so the flow runs between such
 * classes and the shards (classes x shards edges, not candidates x shards: 500 masters with a replica each on 10
 * nodes is 5,000 edges instead of 250,000), each candidate entering by its own edge at its ordinal's cost, so a
 * class sends its lowest ordinals. Each class then hands its candidates to the shards it serves in order, the
 * lowest ordinals to the lowest shards; across classes, that pairing is not optimized.
 */
function assignReplicas(shards: readonly Shard[], candidates: readonly PodRef[], replicasPerMaster: number): {placement: Placement; cost: Cost} {
  const needs = shards.map((s) => Math.max(0, replicasPerMaster - s.replicas.length))
  const graph = new MinCostFlow()
  const source = graph.node()
  const sink = graph.node()
  const classes = new Map<string, {node: number; sample: PodRef; entries: {edge: number; rank: number}[]}>()
  candidates.forEach((candidate, rank) => {
    const key = JSON.stringify([candidate.k8sNode ?? null, candidate.zone ?? null])
    let cls = classes.get(key)
    if (!cls) {
      cls = {node: graph.node(), sample: candidate, entries: []}
      classes.set(key, cls)
    }
    cls.entries.push({edge: graph.edge(source, cls.node, 1, [0, 0, 0, rank, 0]), rank})
  })
  const served: {edge: number; cls: string; shard: number}[] = []
  shards.forEach((shard, s) => {
    if (needs[s] === 0) return
    const masterNode = graph.node()
    graph.edge(masterNode, sink, needs[s], ZERO)
    const groups = new Map<string, number>()
    for (const [key, cls] of classes) {
      const k8sNode = cls.sample.k8sNode
      let into = masterNode
      if (k8sNode !== undefined) {
        // Replicas of one master on one Kubernetes node go through a group whose k-th place costs more: siblings spread out.
        let group = groups.get(k8sNode)
        if (group === undefined) {
          group = graph.node()
          groups.set(k8sNode, group)
          const already = shard.replicas.filter((r) => r.k8sNode === k8sNode).length
          for (let k = 0; k < needs[s]; k++) graph.edge(group, masterNode, 1, [0, 0, already + k, 0, 0])
        }
        into = group
      }
      served.push({edge: graph.edge(cls.node, into, Math.min(needs[s], cls.entries.length), [...pairCost(shard.master, cls.sample), 0, 0, 0]), cls: key, shard: s})
    }
  })
  const total = needs.reduce((a, b) => a + b, 0)
  const {flow, cost} = graph.run(source, sink, total)
  if (flow < total) throw new PreconditionError(`Only ${flow} of the ${plural(total, 'replica')} needed could be placed.`)
  const placed = shards.map((s) => ({master: s.master, replicas: [...s.replicas]}))
  const used = new Set<number>()
  for (const [key, cls] of classes) {
    const ranks = cls.entries.filter((e) => graph.saturated(e.edge)).map((e) => e.rank)
    for (const {edge, shard} of served.filter((x) => x.cls === key)) {
      for (const rank of ranks.splice(0, graph.flowOn(edge))) {
        placed[shard].replicas.push(candidates[rank])
        used.add(rank)
        cost[4] += rank * (shards.length - shard)
      }
    }
  }
  for (const shard of placed) shard.replicas.sort(byOrdinal)
  return {placement: {shards: placed, spare: candidates.filter((_, c) => !used.has(c)), violations: placementViolations(placed)}, cost}
}

function pairCost(master: PodRef, replica: PodRef): [number, number] {
  if (master.k8sNode && master.k8sNode === replica.k8sNode) return [1, 0]
  if (master.zone && master.zone === replica.zone) return [0, 1]
  return [0, 0]
}

/** Successive shortest paths (Bellman-Ford queue) with tuple costs, on the class graph of assignReplicas. */
class MinCostFlow {
  private readonly to: number[] = []
  private readonly cap: number[] = []
  private readonly cost: Cost[] = []
  private readonly next: number[] = []
  private readonly head: number[] = []

  node(): number {
    this.head.push(-1)
    return this.head.length - 1
  }

  /** Adds u -> v and its residual twin; returns the forward edge's index. */
  edge(u: number, v: number, capacity: number, cost: Cost): number {
    const e = this.to.length
    this.push(u, v, capacity, cost)
    this.push(v, u, 0, cost.map((c) => -c) as Cost)
    return e
  }

  saturated(e: number): boolean {
    return this.cap[e] === 0
  }

  /** Units sent through a forward edge: what its residual twin can give back. */
  flowOn(e: number): number {
    return this.cap[e ^ 1]
  }

  run(source: number, sink: number, limit: number): {flow: number; cost: Cost} {
    let flow = 0
    const total: Cost = [...ZERO]
    const n = this.head.length
    const tiers = ZERO.length
    // Flat arrays, tiers side by side: tuples allocated per relaxation made garbage collection most of the work.
    const cost = new Float64Array(this.cost.length * tiers)
    this.cost.forEach((c, e) => cost.set(c, e * tiers))
    const dist = new Float64Array(n * tiers)
    const reached = new Uint8Array(n)
    const queued = new Uint8Array(n)
    const via = new Int32Array(n)
    while (flow < limit) {
      reached.fill(0)
      reached[source] = 1
      dist.fill(0, source * tiers, source * tiers + tiers)
      const queue = [source]
      for (let i = 0; i < queue.length; i++) {
        const u = queue[i]
        queued[u] = 0
        for (let e = this.head[u]; e !== -1; e = this.next[e]) {
          if (this.cap[e] === 0) continue
          const v = this.to[e]
          // dist[u] + cost[e] against dist[v], tier by tier.
          let shorter = reached[v] === 0
          for (let k = 0; !shorter && k < tiers; k++) {
            const delta = dist[u * tiers + k] + cost[e * tiers + k] - dist[v * tiers + k]
            if (delta !== 0) {
              shorter = delta < 0
              break
            }
          }
          if (!shorter) continue
          for (let k = 0; k < tiers; k++) dist[v * tiers + k] = dist[u * tiers + k] + cost[e * tiers + k]
          reached[v] = 1
          via[v] = e
          if (queued[v] === 0) {
            queued[v] = 1
            queue.push(v)
          }
        }
      }
      if (reached[sink] === 0) break
      let push = limit - flow
      for (let v = sink; v !== source; v = this.to[via[v] ^ 1]) push = Math.min(push, this.cap[via[v]])
      for (let v = sink; v !== source; v = this.to[via[v] ^ 1]) {
        this.cap[via[v]] -= push
        this.cap[via[v] ^ 1] += push
      }
      flow += push
      for (let k = 0; k < tiers; k++) total[k] += push * dist[sink * tiers + k]
    }
    return {flow, cost: total}
  }

  private push(u: number, v: number, capacity: number, cost: Cost): void {
    this.to.push(v)
    this.cap.push(capacity)
    this.cost.push(cost)
    this.next.push(this.head[u])
    this.head[u] = this.to.length - 1
  }
}

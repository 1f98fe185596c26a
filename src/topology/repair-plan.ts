import type {NodeAddress} from './observation.js'
import {afterClosingOpenSlots, podName, type PodRef, replicaMigrationOff, type Topology, type TopologyNode} from './model.js'
import {placeReplicas, type Shard} from './placement.js'
import {countSlots, formatRanges, rangesToSlots, type SlotRange, slotsToRanges} from './slots.js'

/** What repair would do, step by step; each kind is one phase of the repair workflow, in this order. */
export type RepairAction =
  | {kind: 'meet'; pod: string; address: NodeAddress; peer: string; peerAddress: NodeAddress; reason: 'stale-address' | 'not-in-cluster'}
  | {kind: 'forget'; id: string; address: NodeAddress}
  | {kind: 'await-failover'; id: string; address: NodeAddress; replicas: string[]}
  | {kind: 'close-open-slots'; slots: number[]}
  | {kind: 'assign-slots'; pod: string; id: string; slots: SlotRange[]; because: 'holds-keys' | 'spread'}
  | {kind: 'replicate'; pod: string; id: string; master: string; masterId: string; was: 'spare' | 'extra-replica'; sameNode: boolean; sameZone: boolean}
  | {kind: 'allow-replica-migration'; pods: string[]; addresses: NodeAddress[]}

/** Something repair will not do by itself: what is wrong, and what a person should do. */
export interface Refusal {
  problem: string
  todo: string
}

export interface RepairPlan {
  actions: RepairAction[]
  refusals: Refusal[]
}

export type ActionOf<K extends RepairAction['kind']> = Extract<RepairAction, {kind: K}>

/** Nodes holding keys of each uncovered slot (CLUSTER COUNTKEYSINSLOT > 0 on a master), by slot. */
export type KeyHolders = ReadonlyMap<number, readonly string[]>

/**
 * Everything repair would do to the cluster as observed, phase by phase: each phase is planned on the cluster as
 * the earlier phases will have left it (`afterActions`), so that the dry run lists what the run will do, such as
 * the replica a master gets once its lost peer's replica has taken over. The run plans each phase again from a
 * fresh observation, with the same planners.
 */
export function planRepair(topology: Topology, keyHolders: KeyHolders = new Map()): RepairPlan {
  const phases = [planReintroductions, planForgets, planOpenSlots, (t: Topology) => planCoverage(t, keyHolders), planReplicas, planReplicaMigration]
  const plan: RepairPlan = {actions: [], refusals: []}
  let projected = topology
  for (const phase of phases) {
    const {actions, refusals} = phase(projected)
    plan.actions.push(...actions)
    plan.refusals.push(...refusals)
    projected = afterActions(projected, actions)
  }
  if (plan.refusals.length === 0) plan.refusals.push(...silentPodRefusals(topology))
  return plan
}

/** Pods whose Redis does not answer at all; one still loading its data answers (LOADING) and is progressing. */
export const silentPods = (topology: Topology): TopologyNode[] => unreachablePods(topology).filter((n) => n.error?.kind !== 'loading')

/**
 * A pod whose Redis does not answer (a stopped or hung redis-server) is damage no command repair sends can mend,
 * and while it is silent repair cannot tell the cluster is whole: refused, so that repair says so at once rather
 * than waiting out --timeout for check to pass.
 */
export function silentPodRefusals(topology: Topology): Refusal[] {
  const down = silentPods(topology)
  if (down.length === 0) return []
  const names = down.map(podName).join(', ')
  return [{
    problem: `${names} did not answer: repair cannot mend a node that does not answer, nor tell whether the cluster is whole without it.`,
    todo: `Find out why (kubectl describe pod; a stopped or hung redis-server), restart the pod if need be (kubectl delete pod ${down.map(podName).join(' ')}), then run redisctl repair again.`,
  }]
}

/**
 * The cluster as it will be once the actions took effect, for planning the phases after them. A failover is
 * projected onto the first replica named: with one replica that is the one Redis promotes; with several, the
 * others follow whichever wins, so no master is left without a replica either way.
 */
export function afterActions(topology: Topology, actions: readonly RepairAction[]): Topology {
  const nodes = topology.nodes.map((n) => ({...n}))
  const find = (id: string): TopologyNode | undefined => nodes.find((n) => n.id === id)
  const gone = new Set<string>()
  let {staleAddresses, openSlots, uncovered} = topology
  for (const action of actions) {
    switch (action.kind) {
      case 'meet': {
        const peer = nodes.find((n) => n.pod?.pod === action.peer)
        if (action.reason === 'not-in-cluster' && peer) peer.inCluster = true
        const met = new Set([action.pod, action.peer])
        const isMet = (id: string): boolean => met.has(find(id)?.pod?.pod ?? '')
        staleAddresses = staleAddresses.filter((s) => !(isMet(s.viewer) && isMet(s.id)))
        break
      }
      case 'forget':
        gone.add(action.id)
        break
      case 'await-failover': {
        const lost = find(action.id)!
        const heir = nodes.find((n) => n.pod && podName(n) === action.replicas[0])!
        for (const n of nodes) if (n !== heir && n.masterId === action.id) n.masterId = heir.id
        Object.assign(heir, {role: 'master', masterId: undefined, slots: lost.slots, slotCount: lost.slotCount})
        gone.add(action.id)
        break
      }
      case 'close-open-slots': {
        const closed = afterClosingOpenSlots({...topology, nodes, openSlots})
        nodes.splice(0, nodes.length, ...closed.nodes)
        openSlots = closed.openSlots
        break
      }
      case 'assign-slots': {
        const master = find(action.id)!
        master.slots = slotsToRanges([...rangesToSlots(master.slots), ...rangesToSlots(action.slots)].sort((a, b) => a - b))
        master.slotCount = countSlots(master.slots)
        const given = new Set(rangesToSlots(action.slots))
        uncovered = slotsToRanges(rangesToSlots(uncovered).filter((slot) => !given.has(slot)))
        break
      }
      case 'replicate':
        Object.assign(find(action.id)!, {role: 'replica', masterId: action.masterId})
        break
      case 'allow-replica-migration':
        for (const n of nodes) if (n.pod && action.pods.includes(podName(n))) n.replicaMigration = true
        break
    }
  }
  return {...topology, nodes: nodes.filter((n) => !n.id || !gone.has(n.id)), staleAddresses, openSlots, uncovered}
}

const podNodes = (t: Topology): TopologyNode[] => t.nodes.filter((n) => n.pod && n.reachable && n.id)
const unreachablePods = (t: Topology): TopologyNode[] => t.nodes.filter((n) => n.pod && !n.reachable)
const byId = (t: Topology): Map<string, TopologyNode> => new Map(t.nodes.flatMap((n) => (n.id ? [[n.id, n] as const] : [])))

function unreachableRefusal(t: Topology, what: string): Refusal[] {
  const down = unreachablePods(t)
  if (down.length === 0) return []
  return [{
    problem: `${down.map(podName).join(', ')} did not answer, so ${what} cannot be decided safely.`,
    todo: 'Wait until every pod is Running and Ready (kubectl get pods -o wide), then run redisctl repair again; use --connect port-forward when pod IPs are out of reach.',
  }]
}

/**
 * Each node that holds another pod's node at an old address meets that pod at its current IP (pods restarted
 * with new IPs and kept their node ids in nodes.conf); empty pods outside the cluster are introduced to it.
 */
export function planReintroductions(topology: Topology): RepairPlan {
  const nodes = byId(topology)
  const actions: RepairAction[] = []
  const pairs = new Set<string>()
  for (const stale of topology.staleAddresses) {
    const viewer = nodes.get(stale.viewer)
    const peer = nodes.get(stale.id)
    if (!viewer?.pod || !peer?.pod) continue
    // One MEET per pair is enough: the met node learns the other's address from the handshake.
    const pair = [stale.viewer, stale.id].sort().join('|')
    if (pairs.has(pair)) continue
    pairs.add(pair)
    actions.push({kind: 'meet', pod: viewer.pod.pod, address: viewer.address, peer: peer.pod.pod, peerAddress: peer.address, reason: 'stale-address'})
  }
  const members = podNodes(topology).filter((n) => n.inCluster)
  const introducer = members.find((n) => n.slotCount > 0) ?? members[0]
  if (introducer?.pod) {
    for (const outsider of podNodes(topology).filter((n) => !n.inCluster && n.slotCount === 0 && (n.keys ?? 0) === 0)) {
      actions.push({kind: 'meet', pod: introducer.pod.pod, address: introducer.address, peer: outsider.pod!.pod, peerAddress: outsider.address, reason: 'not-in-cluster'})
    }
  }
  return {actions, refusals: []}
}

/**
 * Cluster nodes that no pod answers for are forgotten, unless they own slots: a master whose pod is gone is
 * waited for when a replica can take over, and refused otherwise. Decided only when every pod answered, since an
 * unanswered pod could be the one behind an unknown id.
 */
export function planForgets(topology: Topology): RepairPlan {
  const podless = topology.nodes.filter((n) => !n.pod && n.id && !n.flags.includes('handshake'))
  if (podless.length === 0) return {actions: [], refusals: []}
  const refused = unreachableRefusal(topology, 'which cluster nodes have no pod')
  if (refused.length > 0) return {actions: [], refusals: refused}
  const actions: RepairAction[] = []
  const refusals: Refusal[] = []
  for (const node of podless) {
    const followers = topology.nodes.filter((n) => n.pod && n.reachable && n.role === 'replica' && n.masterId === node.id)
    if (node.slotCount > 0) {
      if (followers.length > 0) {
        actions.push({kind: 'await-failover', id: node.id!, address: node.address, replicas: followers.map(podName)})
      } else {
        refusals.push({
          problem: `Node ${node.id} at ${node.address.host}:${node.address.port} owns slots ${formatRanges(node.slots)}, no pod answers for it and it has no replica.`,
          todo: 'Bring its pod back with its volume (its data lives there) and run redisctl repair again. Only if that data is lost for good: run CLUSTER FORGET on every node, then redisctl repair covers its slots, empty.',
        })
      }
    } else if (followers.length > 0) {
      refusals.push({
        problem: `${followers.map(podName).join(', ')} still follow node ${node.id} at ${node.address.host}:${node.address.port}, which no pod answers for and which owns no slots.`,
        todo: 'Make them replicas of a master that owns slots (CLUSTER REPLICATE <master-id>), then run redisctl repair again to forget the node.',
      })
    } else {
      actions.push({kind: 'forget', id: node.id!, address: node.address})
    }
  }
  return {actions, refusals}
}

/** Slots left MIGRATING/IMPORTING are closed the way redis-cli --cluster fix does, which needs every master's answer. */
export function planOpenSlots(topology: Topology): RepairPlan {
  if (topology.openSlots.length === 0) return {actions: [], refusals: []}
  const refused = unreachableRefusal(topology, 'where the keys of the open slots belong')
  if (refused.length > 0) return {actions: [], refusals: refused}
  return {actions: [{kind: 'close-open-slots', slots: [...new Set(topology.openSlots.map((o) => o.slot))].sort((a, b) => a - b)}], refusals: []}
}

/**
 * Slots no node claims: each goes to the master holding its keys; slots without keys are spread so that the
 * masters end as even as they can. Refused while a pod does not answer (its slots only look uncovered) or when
 * keys of one slot sit on several masters (merging them could overwrite one key with another).
 */
export function planCoverage(topology: Topology, keyHolders: KeyHolders): RepairPlan {
  const claimedSomewhere = new Set(topology.nodes.flatMap((n) => rangesToSlots(n.slots)))
  const uncovered = rangesToSlots(topology.uncovered).filter((s) => !claimedSomewhere.has(s))
  if (uncovered.length === 0) return {actions: [], refusals: []}
  const refused = unreachableRefusal(topology, 'which slots have no owner')
  if (refused.length > 0) return {actions: [], refusals: refused}
  const masters = podNodes(topology).filter((n) => n.role === 'master' && n.inCluster)
  if (masters.length === 0 || masters.every((m) => m.slotCount === 0)) {
    return {actions: [], refusals: [{problem: 'No master owns any slot: the cluster has not been formed.', todo: 'Form it with redisctl cluster create.'}]}
  }
  const nodes = byId(topology)
  const gets = new Map<string, number[]>()
  const give = (id: string, slot: number): void => {
    const slots = gets.get(id)
    if (slots) slots.push(slot)
    else gets.set(id, [slot])
  }
  const refusals: Refusal[] = []
  const contested: number[] = []
  const free: number[] = []
  for (const slot of uncovered) {
    const holders = (keyHolders.get(slot) ?? []).filter((id) => masters.some((m) => m.id === id))
    if (holders.length === 1) give(holders[0], slot)
    else if (holders.length > 1) contested.push(slot)
    else free.push(slot)
  }
  if (contested.length > 0) {
    const holders = [...new Set(contested.flatMap((s) => keyHolders.get(s) ?? []))].map((id) => (nodes.get(id) ? podName(nodes.get(id)!) : id))
    refusals.push({
      problem: `Uncovered slots ${formatRanges(slotsToRanges(contested))} have keys on several masters (${holders.join(', ')}).`,
      todo: 'Decide which copy to keep: move or delete the keys of those slots on the other masters (CLUSTER GETKEYSINSLOT, MIGRATE), then run redisctl repair again.',
    })
  }
  const counts = new Map(masters.map((m) => [m.id!, m.slotCount + (gets.get(m.id!)?.length ?? 0)]))
  for (const [id, share] of spread(free, counts)) for (const slot of share) give(id, slot)
  // Slots with keys and slots without go to a master as separate actions, so that each says why.
  const actions = [...gets].flatMap(([id, slots]) => splitByReason(podName(nodes.get(id)!), id, slots, keyHolders))
  return {actions, refusals}
}

function splitByReason(pod: string, id: string, slots: number[], keyHolders: KeyHolders): ActionOf<'assign-slots'>[] {
  const holds = (slot: number): boolean => (keyHolders.get(slot) ?? []).includes(id)
  const held = slots.filter(holds)
  const rest = slots.filter((s) => !holds(s))
  return [
    ...(held.length > 0 ? [{kind: 'assign-slots' as const, pod, id, slots: slotsToRanges(held), because: 'holds-keys' as const}] : []),
    ...(rest.length > 0 ? [{kind: 'assign-slots' as const, pod, id, slots: slotsToRanges(rest), because: 'spread' as const}] : []),
  ]
}

/**
 * Hands out the free slots (in order, in contiguous runs) so that the masters' counts end as even as possible:
 * the ones below the level the total allows fill up to it, fewest first.
 */
export function spread(free: readonly number[], counts: ReadonlyMap<string, number>): Map<string, number[]> {
  const ids = [...counts.keys()].sort((a, b) => counts.get(a)! - counts.get(b)! || a.localeCompare(b))
  const want = new Map(ids.map((id) => [id, 0]))
  for (let left = free.length; left > 0; left--) {
    const next = ids.reduce((best, id) => (counts.get(id)! + want.get(id)! < counts.get(best)! + want.get(best)! ? id : best), ids[0])
    want.set(next, want.get(next)! + 1)
  }
  const shares = new Map<string, number[]>()
  let at = 0
  for (const id of ids) {
    const n = want.get(id)!
    if (n > 0) shares.set(id, free.slice(at, at + n))
    at += n
  }
  return shares
}

/**
 * Masters that own slots but have no replica get one: an empty master that is in the cluster (a spare), else a
 * replica taken from a master that has more than one. The choice keeps replicas off their master's Kubernetes
 * node and zone where the pods allow (src/topology/placement.ts); spares go first when they fit as well.
 */
export function planReplicas(topology: Topology): RepairPlan {
  const live = podNodes(topology)
  const masters = live.filter((n) => n.role === 'master' && n.slotCount > 0)
  const replicasOf = new Map(masters.map((m) => [m.id!, live.filter((r) => r.role === 'replica' && r.masterId === m.id)]))
  const orphans = masters.filter((m) => replicasOf.get(m.id!)!.length === 0)
  if (orphans.length === 0) return {actions: [], refusals: []}
  let spares = live.filter((n) => n.inCluster && n.role === 'master' && n.slotCount === 0 && (n.keys ?? 0) === 0 && !live.some((r) => r.masterId === n.id))
  const nodeOfPod = new Map(live.map((n) => [n.pod!.pod, n]))
  const actions: RepairAction[] = []
  for (const orphan of orphans) {
    const extras = masters.flatMap((m) => (replicasOf.get(m.id!)!.length > 1 ? replicasOf.get(m.id!)! : []))
    const fromSpares = bestReplica(orphan.pod!, spares.map((s) => s.pod!))
    const fromAll = bestReplica(orphan.pod!, [...spares, ...extras].map((n) => n.pod!))
    const pick = fromSpares && (!fromAll || violations(orphan.pod!, fromSpares) <= violations(orphan.pod!, fromAll)) ? fromSpares : fromAll
    if (!pick) break
    const node = nodeOfPod.get(pick.pod)!
    const wasSpare = spares.includes(node)
    if (wasSpare) spares = spares.filter((s) => s !== node)
    else replicasOf.set(node.masterId!, replicasOf.get(node.masterId!)!.filter((r) => r !== node))
    replicasOf.set(orphan.id!, [node])
    actions.push({
      kind: 'replicate', pod: pick.pod, id: node.id!, master: orphan.pod!.pod, masterId: orphan.id!, was: wasSpare ? 'spare' : 'extra-replica',
      sameNode: Boolean(pick.k8sNode && pick.k8sNode === orphan.pod!.k8sNode),
      sameZone: Boolean(pick.zone && pick.zone === orphan.pod!.zone),
    })
  }
  return {actions, refusals: []}
}

function bestReplica(master: PodRef, candidates: PodRef[]): PodRef | undefined {
  if (candidates.length === 0) return undefined
  const shard: Shard = {master, replicas: []}
  return placeReplicas([shard], candidates, 1).shards[0].replicas[0]
}

const violations = (master: PodRef, replica: PodRef): number =>
  (master.k8sNode && master.k8sNode === replica.k8sNode ? 2 : 0) + (master.zone && master.zone === replica.zone ? 1 : 0)

/**
 * Replica migration back on where an interrupted scale in or slot move left it off (redisctl turns it off only
 * while masters are drained, and Redis's default is on).
 */
export function planReplicaMigration(topology: Topology): RepairPlan {
  const off = replicaMigrationOff(topology)
  const actions: RepairAction[] = off.length === 0 ? [] : [{kind: 'allow-replica-migration', pods: off.map(podName), addresses: off.map((n) => n.address)}]
  return {actions, refusals: []}
}

/** One line per action, for people (and the dry run). */
export function describeAction(action: RepairAction): string {
  const at = (a: NodeAddress): string => `${a.host}:${a.port}`
  switch (action.kind) {
    case 'meet':
      return action.reason === 'stale-address'
        ? `${action.pod} meets ${action.peer} at its current address ${at(action.peerAddress)} (CLUSTER MEET)`
        : `${action.pod} introduces ${action.peer} (${at(action.peerAddress)}), an empty pod outside the cluster (CLUSTER MEET)`
    case 'forget':
      return `every node forgets ${action.id} at ${at(action.address)}, which no pod answers for (CLUSTER FORGET)`
    case 'await-failover':
      return `wait for ${action.replicas.join(' or ')} to take over the slots of ${action.id} at ${at(action.address)}, which no pod answers for, then forget it`
    case 'close-open-slots':
      return `close open slots ${formatRanges(slotsToRanges(action.slots))} toward the node holding their keys (as redis-cli --cluster fix)`
    case 'assign-slots':
      return `${action.pod} takes uncovered slots ${formatRanges(action.slots)} (${countSlots(action.slots)}), ${action.because === 'holds-keys' ? 'whose keys it holds' : 'which hold no keys'} (CLUSTER ADDSLOTSRANGE)`
    case 'replicate':
      return `${action.pod} (${action.was === 'spare' ? 'an empty master' : 'an extra replica'}) becomes a replica of ${action.master}, which has none (CLUSTER REPLICATE)` +
        (action.sameNode ? '; on the same Kubernetes node: no other pod fits' : action.sameZone ? '; in the same zone: no other pod fits' : '')
    case 'allow-replica-migration':
      return `turn replica migration back on for ${action.pods.join(', ')}, left off by an interrupted command (CONFIG SET cluster-allow-replica-migration yes)`
  }
}

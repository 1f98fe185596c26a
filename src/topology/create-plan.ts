import {PreconditionError, UsageError} from '../errors.js'
import {type ClusterObservation, isTentative, type NodeView, observationError, slotMapSignature} from './observation.js'
import type {ClusterLayout, PodRef} from './model.js'
import {type Placement, placeReplicas, placeShards, type Shard} from './placement.js'
import {countSlots, formatRanges, rangesToSlots, SLOT_COUNT, type SlotRange, splitEvenly} from './slots.js'
import {syncState} from './sync.js'
import {plural, shapeWords} from '../util/words.js'

export interface CreateOptions {
  masters: number
  replicasPerMaster: number
  /** Fewer than 3 masters cannot elect a new master when one fails; only for tests and toys. */
  allowFewerThanThreeMasters?: boolean
}

/**
 * What `cluster create` will do: nothing (already formed as asked), form from scratch, or finish an earlier
 * forming (`done` says what is already there). The layout is the whole target; forming skips what is true.
 */
export type CreatePlan =
  | {kind: 'formed'; layout: ClusterLayout; placement: Placement}
  | {kind: 'form'; layout: ClusterLayout; placement: Placement}
  | {kind: 'resume'; layout: ClusterLayout; placement: Placement; done: string[]}

/** Plans `cluster create` from the pods and what their nodes said; refuses with a PreconditionError when unsafe. */
export function planCreate(pods: readonly PodRef[], observation: ClusterObservation, options: CreateOptions): CreatePlan {
  const {masters, replicasPerMaster: replicas} = options
  if (!Number.isInteger(masters) || masters < 1 || !Number.isInteger(replicas) || replicas < 0) {
    throw new UsageError(`--masters must be at least 1 and --replicas-per-master at least 0 (got ${masters} and ${replicas}).`)
  }
  if (masters < 3 && !options.allowFewerThanThreeMasters) {
    throw new PreconditionError(`A Redis Cluster needs at least 3 masters to survive the loss of one (asked for ${masters}).`, [
      'Use --masters 3 or more.',
    ])
  }
  const needed = masters * (1 + replicas)
  if (pods.length < needed) {
    throw new PreconditionError(`${shapeWords({masters, replicasPerMaster: replicas})} need ${plural(needed, 'pod')}, but ${pods.length} were found.`, [
      'Scale the StatefulSet up, or ask for fewer masters or replicas.',
    ])
  }
  const views = viewsOfPods(pods, observation)
  refuseForeignState(pods, views, observation)

  const fresh = placeShards(pods, masters, replicas)
  const {placement, layout} = fitsExisting(fresh, views)
    ? {placement: fresh, layout: {shards: fresh.shards.map((shard, i) => ({...shard, slots: [splitEvenly(masters)[i]]}))}}
    : layoutAroundExisting(pods, views, options)
  const done = progress(layout, views)
  if (done.formed) return {kind: 'formed', layout, placement}
  if (done.steps.length === 0) return {kind: 'form', layout, placement}
  return {kind: 'resume', layout, placement, done: done.steps}
}

function viewsOfPods(pods: readonly PodRef[], observation: ClusterObservation): Map<PodRef, NodeView> {
  const views = new Map<PodRef, NodeView>()
  for (const pod of pods) {
    const seen = observation.nodes.find((n) => n.address.host === pod.ip && n.address.port === pod.port)
    if (!seen) throw new PreconditionError(`${pod.pod} (${pod.ip}:${pod.port}) was not observed.`)
    if (!seen.ok) throw observationError(seen)
    views.set(pod, seen.view)
  }
  return views
}

const RESET_HINT = 'If the pods really should start empty, reset them (redis-cli -h <pod-ip> CLUSTER RESET HARD after FLUSHALL) and run this again.'

/** A node that holds data outside any slot, or belongs to another cluster, must not be swept into this one. */
function refuseForeignState(pods: readonly PodRef[], views: Map<PodRef, NodeView>, observation: ClusterObservation): void {
  const ids = new Set([...views.values()].map((v) => v.id))
  for (const pod of pods) {
    const view = views.get(pod)!
    const stranger = view.nodes.find((n) => !n.myself && !isTentative(n) && !ids.has(n.id))
    if (stranger) {
      throw new PreconditionError(`${pod.pod} belongs to another cluster: it knows node ${stranger.id} at ${stranger.host}:${stranger.port}, which is none of the pods.`, [
        'Check -l/--selector: it should match exactly the pods of this cluster.', RESET_HINT,
      ])
    }
    if (view.keys > 0 && view.myself.slots.length === 0 && view.myself.role === 'master') {
      throw new PreconditionError(`${pod.pod} holds ${plural(view.keys, 'key')} but no slots: forming a cluster over it would lose or hide them.`, [RESET_HINT])
    }
  }
  if (observation.conflicts.length > 0) {
    const [c] = observation.conflicts
    throw new PreconditionError(`Slots ${formatRanges(c.slots)} are claimed by several nodes (${c.ids.join(', ')}): these pods hold more than one cluster.`, [RESET_HINT])
  }
  const owner = new Map<number, string>()
  for (const view of views.values()) for (const slot of rangesToSlots(view.myself.slots)) owner.set(slot, view.id)
  for (const [pod, view] of views) {
    for (const line of view.nodes) {
      const wrong = rangesToSlots(line.slots).find((slot) => owner.has(slot) && owner.get(slot) !== line.id)
      if (wrong !== undefined) {
        throw new PreconditionError(`${pod.pod} has a different slot map: it sees slot ${wrong} on ${line.id}, which ${owner.get(wrong)} claims.`, [RESET_HINT])
      }
    }
  }
}

/** The fresh placement still applies when the nodes' roles so far are the ones it gives (our own interrupted run). */
function fitsExisting(placement: Placement, views: Map<PodRef, NodeView>): boolean {
  const masterOf = new Map<PodRef, PodRef>()
  for (const shard of placement.shards) for (const r of shard.replicas) masterOf.set(r, shard.master)
  const isMaster = new Set(placement.shards.map((s) => s.master))
  const ranges = splitEvenly(placement.shards.length)
  return [...views].every(([pod, view]) => {
    if (view.myself.slots.length > 0) {
      const index = placement.shards.findIndex((s) => s.master === pod)
      return index >= 0 && within(view.myself.slots, ranges[index])
    }
    if (view.myself.role !== 'replica') return true
    const master = masterOf.get(pod)
    return master !== undefined && views.get(master)!.id === view.myself.masterId && !isMaster.has(pod)
  })
}

/**
 * Keeps the masters that hold slots and the replicas already following them, and places the rest around them.
 * Where slots are all assigned, each master keeps what it has; otherwise a master holding part of one range of
 * redis-cli's even split gets the rest of it, and the new masters get the ranges nobody holds.
 */
function layoutAroundExisting(pods: readonly PodRef[], views: Map<PodRef, NodeView>, options: CreateOptions): {placement: Placement; layout: ClusterLayout} {
  const {masters, replicasPerMaster} = options
  const slotsOf = (p: PodRef): SlotRange[] => views.get(p)!.myself.slots
  const owners = pods.filter((p) => slotsOf(p).length > 0)
  const fullyAssigned = owners.reduce((n, p) => n + countSlots(slotsOf(p)), 0) === SLOT_COUNT
  if (owners.length > masters || (fullyAssigned && owners.length !== masters)) {
    throw new PreconditionError(`These pods already form a cluster with ${plural(owners.length, 'master')}, not ${masters}.`, [
      `Change the number of masters with: redisctl scale --masters ${masters}`,
    ])
  }
  const ranges = splitEvenly(masters)
  const rangeOf = new Map<PodRef, SlotRange>()
  if (!fullyAssigned) {
    for (const owner of owners) {
      const range = ranges.find((r) => within(slotsOf(owner), r))
      if (!range || [...rangeOf.values()].includes(range)) {
        throw new PreconditionError(`The slots of ${owner.pod} (${formatRanges(slotsOf(owner))}) do not fit an even split over ${plural(masters, 'master')}.`, [RESET_HINT])
      }
      rangeOf.set(owner, range)
    }
  }
  const byId = new Map([...views].map(([pod, view]) => [view.id, pod]))
  const followers = (master: PodRef): PodRef[] =>
    pods.filter((p) => views.get(p)!.myself.role === 'replica' && byId.get(views.get(p)!.myself.masterId ?? '') === master)
  const taken = new Set<PodRef>(owners.flatMap((o) => [o, ...followers(o)]))
  const stray = pods.find((p) => views.get(p)!.myself.role === 'replica' && !taken.has(p))
  if (stray) throw new PreconditionError(`${stray.pod} replicates a node that holds no slots, which no layout of this cluster can keep.`, [RESET_HINT])
  const free = pods.filter((p) => !taken.has(p))
  const added = owners.length < masters ? placeShards(free, masters - owners.length, 0).shards.map((s) => s.master) : []
  const unclaimed = ranges.filter((r) => ![...rangeOf.values()].includes(r))
  added.forEach((m, i) => rangeOf.set(m, unclaimed[i]))
  const shards: Shard[] = [...owners.map((o) => ({master: o, replicas: followers(o)})), ...added.map((m) => ({master: m, replicas: []}))]
  const placement = placeReplicas(shards, free.filter((p) => !added.includes(p)), replicasPerMaster)
  const layout = {shards: placement.shards.map((shard) => ({...shard, slots: fullyAssigned ? slotsOf(shard.master) : [rangeOf.get(shard.master)!]}))}
  return {placement, layout}
}

const within = (slots: readonly SlotRange[], range: SlotRange): boolean => slots.every((s) => s.start >= range.start && s.end <= range.end)

function progress(layout: ClusterLayout, views: Map<PodRef, NodeView>): {formed: boolean; steps: string[]} {
  const pods = layout.shards.flatMap((s) => [s.master, ...s.replicas])
  const view = (p: PodRef): NodeView => views.get(p)!
  const withSlots = layout.shards.filter((s) => {
    const owned = new Set(rangesToSlots(view(s.master).myself.slots))
    return rangesToSlots(s.slots).every((slot) => owned.has(slot))
  }).length
  const knowsAll = pods.every((p) => pods.every((q) => q === p || view(p).nodes.some((n) => n.id === view(q).id && !isTentative(n))))
  const met = pods.filter((p) => view(p).nodes.some((n) => !n.myself && !isTentative(n))).length
  const replicas = layout.shards.flatMap((s) => s.replicas.map((r) => ({r, master: s.master})))
  const following = replicas.filter(({r, master}) => view(r).myself.role === 'replica' && view(r).myself.masterId === view(master).id).length
  const steps = [
    ...(withSlots > 0 ? [`slots assigned on ${withSlots} of ${plural(layout.shards.length, 'master')}`] : []),
    ...(met > 0 ? [`${met} of ${plural(pods.length, 'node')} have met other nodes`] : []),
    ...(following > 0 ? [`${following} of ${plural(replicas.length, 'replica')} follow their masters`] : []),
  ]
  const signatures = new Set(pods.map((p) => slotMapSignature(view(p))))
  // Formed means ready: a replica still in its first sync does not hold its master's data yet (one a few bytes
  // behind under writes does).
  const inSync = replicas.every(({r, master}) => ['in-sync', 'lagging'].includes(syncState(view(r), view(master))?.state ?? ''))
  const formed = withSlots === layout.shards.length && knowsAll && following === replicas.length && inSync &&
    signatures.size === 1 && pods.every((p) => view(p).info.state === 'ok')
  return {formed, steps}
}

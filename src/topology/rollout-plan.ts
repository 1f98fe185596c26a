import {podName, type Topology, type TopologyNode} from './model.js'
import {formatRanges, type SlotRange} from './slots.js'
import {syncProblem} from './sync.js'

/**
 * The order in which a rollout restarts the pods that do not run the StatefulSet's update revision, one pod at a
 * time, so that no shard ever has two pods down and no slot is ever without a master that takes writes:
 * 1. replicas, shard by shard, each waited for until Ready and in sync with its master;
 * 2. then shard by shard, a master is handed over with a planned CLUSTER FAILOVER to one of its replicas (which the
 *    first phase has already brought to the update revision), and its pod is restarted to come back as a replica.
 * A shard whose master must restart with no replica in sync is refused, unless the caller accepts that its slots
 * refuse writes while the pod restarts. The plan depends only on what it is given, so the run, which plans again
 * after every step from what it then observes, follows the order the dry run printed.
 */

export type RolloutStep =
  /** Delete the pod; wait until it is back on the update revision, Ready and in sync with `master`. */
  | {kind: 'restart'; pod: string; role: 'replica'; master: string}
  /** Delete the pod of a node that serves no slots (a master without slots, a node outside the cluster); wait until Ready. */
  | {kind: 'restart'; pod: string; role: 'empty'}
  /** --allow-unavailable: delete the pod of a master with no replica in sync; its slots refuse writes until it is back. */
  | {kind: 'restart'; pod: string; role: 'master'; slots: SlotRange[]; keys?: number}
  /** CLUSTER FAILOVER on `to`, confirmed by every node: `to` owns `slots`, `from` becomes its replica. */
  | {kind: 'failover'; from: string; to: string; slots: SlotRange[]}

/** A master that would have to restart with no replica in sync to take over its slots. */
export interface RolloutRefusal {
  pod: string
  slots: SlotRange[]
  why: string
}

export interface RolloutPlan {
  steps: RolloutStep[]
  /** Pods that already run the update revision. */
  updated: string[]
  /** Shards refused (without --allow-unavailable): the run changes nothing while there is any. */
  refusals: RolloutRefusal[]
}

export interface RolloutInput {
  /** Each pod's revision (its controller-revision-hash label), by pod name. */
  revisions: ReadonlyMap<string, string | undefined>
  updateRevision: string
  allowUnavailable: boolean
}

const byOrdinal = (a: TopologyNode, b: TopologyNode): number => a.pod!.ordinal - b.pod!.ordinal

export function planRollout(topology: Topology, input: RolloutInput): RolloutPlan {
  const podNodes = topology.nodes.filter((n) => n.pod).sort(byOrdinal)
  const outdated = (n: TopologyNode): boolean => input.revisions.get(n.pod!.pod) !== input.updateRevision
  const masters = podNodes.filter((n) => n.role === 'master' && n.slotCount > 0)
  const replicasOf = (master: TopologyNode): TopologyNode[] => podNodes.filter((n) => n.role === 'replica' && n.masterId === master.id)
  const inShards = new Set(masters.flatMap((m) => [m, ...replicasOf(m)]))

  const steps: RolloutStep[] = []
  for (const master of masters) {
    for (const replica of replicasOf(master).filter(outdated)) steps.push({kind: 'restart', pod: replica.pod!.pod, role: 'replica', master: master.pod!.pod})
  }
  for (const other of podNodes.filter((n) => !inShards.has(n) && outdated(n))) steps.push({kind: 'restart', pod: other.pod!.pod, role: 'empty'})

  const refusals: RolloutRefusal[] = []
  for (const master of masters.filter(outdated)) {
    const replicas = replicasOf(master)
    // A replica in sync now is brought to the update revision by the first phase and waited for until in sync
    // again, so it is on the new revision and in sync by the time its master's turn comes.
    const target = replicas.find((r) => r.sync?.state === 'in-sync')
    if (target) {
      steps.push({kind: 'failover', from: master.pod!.pod, to: target.pod!.pod, slots: master.slots})
      steps.push({kind: 'restart', pod: master.pod!.pod, role: 'replica', master: target.pod!.pod})
    } else if (input.allowUnavailable) {
      steps.push({kind: 'restart', pod: master.pod!.pod, role: 'master', slots: master.slots, keys: master.keys})
    } else {
      refusals.push({pod: master.pod!.pod, slots: master.slots, why: replicas.length === 0
        ? 'it has no replica to take over its slots'
        : `no replica of it is in sync (${replicas.map((r) => `${podName(r)} ${r.sync ? syncProblem(r.sync, master.pod!.pod) ?? '' : 'did not answer'}`).join('; ')})`})
    }
  }
  return {steps, updated: podNodes.filter((n) => !outdated(n)).map((n) => n.pod!.pod), refusals}
}

/** One line per step, for the dry run and the run's titles. */
export function describeStep(step: RolloutStep): string {
  if (step.kind === 'failover') {
    return `fail over ${step.from} to ${step.to} (CLUSTER FAILOVER of slots ${formatRanges(step.slots)}, confirmed by every node)`
  }
  switch (step.role) {
    case 'replica':
      return `restart ${step.pod} (replica of ${step.master}), then wait until it is Ready and in sync`
    case 'empty':
      return `restart ${step.pod} (neither a master with slots nor a replica now), then wait until it is Ready`
    case 'master':
      return `restart ${step.pod}, a master with no replica in sync: ${unavailability(step.slots, step.keys)}`
  }
}

/** What --allow-unavailable costs a shard, said before it is done. */
export function unavailability(slots: SlotRange[], keys: number | undefined): string {
  return `slots ${formatRanges(slots)} refuse reads and writes from the pod's deletion until it is Ready again and has loaded ` +
    `its ${keys === undefined ? '' : `${keys} `}keys from its volume (a few seconds for a small data set, longer for a large one)`
}

export const describeRefusal = (r: RolloutRefusal): string =>
  `${r.pod} masters slots ${formatRanges(r.slots)} and would have to restart, but ${r.why}.`

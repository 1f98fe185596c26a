import {pipelined} from './commands.js'
import {addressKey, type RedisConnector} from './connection.js'
import {observeCluster} from './observe.js'
import {type ClusterNodeLine, type ClusterObservation, isTentative, type NodeView, observationError, slotMapSignature} from '../topology/observation.js'
import {waitUntil, type Probe, type WaitOptions} from '../util/wait.js'
import {BugError, PreconditionError, TimeoutError} from '../errors.js'
import {type ClusterLayout, podAddress, type PodRef} from '../topology/model.js'
import {formatRanges, rangesToSlots, slotsToRanges} from '../topology/slots.js'
import {type MeetPair, pairKey, planMeets} from '../topology/meet-plan.js'
import {syncProblem, syncState} from '../topology/sync.js'
import {agree, firstFew, plural} from '../util/words.js'

export type FormStep = 'shorten-timeout' | 'assign-slots' | 'config-epochs' | 'meet' | 'converge' | 'restore-timeout' | 'replicate' | 'attach' | 'ready'

export interface FormProgress {
  step: FormStep
  message: string
}

export interface FormOptions {
  /** Bound of each wait for the cluster to converge. */
  timeoutMs?: number
  intervalMs?: number
  onProgress?: (progress: FormProgress) => void
  /**
   * The cluster-node-timeout of the nodes' redis.conf. Given, a new and empty cluster forms with a shorter one,
   * and any node running below it gets it back; unknown (pods someone else configured), nothing is changed.
   */
  configuredNodeTimeoutMs?: number
  /** Handshakes under way at once while the nodes meet; meetWindow(nodes) when absent. */
  meetWindow?: number
  /** Replicas attached at once; REPLICAS_AT_ONCE when absent. */
  replicasAtOnce?: number
}

export interface FormReport {
  /** Every command that changed a node, in words; empty when the cluster was already formed. */
  actions: string[]
}

/**
 * Forms the cluster step by step; each step reads the nodes, skips what is already true and verifies its
 * result, so running it again after an interruption (or on a formed cluster) finishes or changes nothing.
 */
export async function formCluster(connector: RedisConnector, layout: ClusterLayout, options: FormOptions = {}): Promise<FormReport> {
  const actions: string[] = []
  for (const step of CREATE_STEPS) actions.push(...await step.run(connector, layout, options))
  return {actions}
}

export interface FormStepSpec {
  step: FormStep
  title: string
  run: (c: RedisConnector, l: ClusterLayout, o: FormOptions) => Promise<string[]>
  /** Runs on a formed cluster too: what it undoes may be left by a create killed after the rest was done. */
  evenWhenFormed?: boolean
  /** A step that acts (rather than waits): why it is shown as skipped when it found nothing to do. */
  idle?: string
}

/** The steps in order, for workflows that show each one as its own task. */
export const FORM_STEPS: readonly FormStepSpec[] = [
  {step: 'assign-slots', title: 'Assign slots to masters', run: assignSlots, idle: 'every master owns its slots'},
  {step: 'config-epochs', title: 'Give every node its own config epoch', run: setConfigEpochs, idle: 'every node has its own config epoch'},
  {step: 'meet', title: 'Introduce the nodes to each other', run: meetNodes, idle: 'every node knows every other one'},
  {step: 'converge', title: 'Wait until every node knows every node and agrees on the slots', run: waitForAgreement},
  {step: 'replicate', title: 'Attach replicas to their masters', run: replicate, idle: 'every replica follows its master'},
  {step: 'attach', title: 'Wait until every replica is in sync with its master', run: waitForReplicas},
  {step: 'ready', title: 'Wait until every node reports cluster_state:ok', run: waitForClusterOk},
]

const CONVERGE = FORM_STEPS.findIndex((s) => s.step === 'converge')

/**
 * Forming a new cluster: FORM_STEPS, with cluster-node-timeout shortened once every node knows every node until
 * every master reports cluster_state:ok, and restored before any replica is attached (options.configuredNodeTimeoutMs).
 * Not before the nodes have met: a handshake that takes longer than the timeout (at least 1 s) is dropped, which a
 * busy machine makes likely. Before the slots are agreed on, so that the masters' rejoin delay has run out by then.
 */
export const CREATE_STEPS: readonly FormStepSpec[] = [
  ...FORM_STEPS.slice(0, CONVERGE),
  {step: 'shorten-timeout', title: 'Shorten cluster-node-timeout until the new cluster reports cluster_state:ok', run: shortenNodeTimeout,
    idle: 'not a new, empty cluster on a longer timeout'},
  FORM_STEPS[CONVERGE],
  {step: 'restore-timeout', title: 'Restore the configured cluster-node-timeout', run: restoreNodeTimeout, evenWhenFormed: true,
    idle: 'every node runs the configured cluster-node-timeout'},
  ...FORM_STEPS.slice(CONVERGE + 1),
]

/**
 * Redis holds a master that was in a minority (as every master is until it owns slots) in cluster_state:fail for
 * min(cluster-node-timeout, 5 s), never less than 500 ms (clusterUpdateState's rejoin delay), reading the timeout
 * each time it checks. 1 s keeps that wait short while a node stalled by a busy machine is not yet taken for failed;
 * 20 ms more per node beyond 50, because each node pings every other one every timeout / 2 (200 nodes: 4 s).
 */
export const formingNodeTimeoutMs = (nodes: number): number => Math.max(1000, 20 * nodes)

/** How long the shortened timeout is given to bring cluster_state:ok to the masters before it is restored anyway. */
const SHORT_WAIT_MS = 10_000

/**
 * Only while nothing can be lost: no node holds keys and none is a replica yet, so a node wrongly taken for
 * failed has no replica to fail over to and no data to protect. Only in memory (no CONFIG REWRITE): a pod that
 * restarts comes back with its redis.conf value. Waits until every node knows every node first: from then on no
 * handshake is needed, and a MEET that only announces slots may be dropped (the pings carry them too).
 */
export async function shortenNodeTimeout(connector: RedisConnector, layout: ClusterLayout, options: FormOptions = {}): Promise<string[]> {
  const configured = options.configuredNodeTimeoutMs
  const short = formingNodeTimeoutMs(podsOf(layout).length)
  if (configured === undefined || configured <= short) return []
  const views = await acquainted(connector, layout, stepWait(connector, options, 'shorten-timeout'))
  if ([...views.values()].some((v) => v.keys > 0 || v.myself.role === 'replica')) return []
  const longer = podsOf(layout).filter((p) => (viewOf(views, p).nodeTimeoutMs ?? 0) > short)
  if (longer.length === 0) return []
  await Promise.all(longer.map((p) => send(connector, p, [['CONFIG', 'SET', 'cluster-node-timeout', short]])))
  options.onProgress?.({step: 'shorten-timeout', message: `cluster-node-timeout ${short} ms on ${plural(longer.length, 'node')} until cluster_state:ok`})
  return [`CONFIG SET cluster-node-timeout ${short} on ${plural(longer.length, 'node')} (${configured} again once cluster_state:ok)`]
}

/**
 * Waits for cluster_state:ok on every master if a node runs below the configured cluster-node-timeout, then sets
 * it back on those nodes. The masters only: Redis's rejoin delay holds masters, and the other nodes turn ok as
 * soon as they replicate, whatever their timeout (a node without slots counts itself in a minority until it has
 * learned the masters' slots, so its delay would run from later than theirs).
 */
export async function restoreNodeTimeout(connector: RedisConnector, layout: ClusterLayout, options: FormOptions = {}): Promise<string[]> {
  const configured = options.configuredNodeTimeoutMs
  if (configured === undefined) return []
  const shortened = (views: Map<string, NodeView>): PodRef[] => podsOf(layout).filter((p) => (viewOf(views, p).nodeTimeoutMs ?? configured) < configured)
  const masters = layout.shards.map((s) => s.master)
  // Masters a busy machine keeps taking for failed may not get there on the short timeout: then the last step waits
  // on the configured one, as it would have without shortening.
  const views = await waitUntil('every master to report cluster_state:ok', async () => {
    const current = await observeAll(connector, layout)
    const failing = masters.filter((p) => viewOf(current, p).info.state !== 'ok').map((p) => p.pod)
    if (shortened(current).length === 0 || failing.length === 0) return {done: true, value: current}
    return {done: false, missing: clusterOkProgress(masters.length, failing)}
  }, {...stepWait(connector, options, 'restore-timeout'), timeoutMs: Math.min(options.timeoutMs ?? SHORT_WAIT_MS, SHORT_WAIT_MS)})
    .catch(async (error: unknown) => {
      if (!(error instanceof TimeoutError)) throw error
      return observeAll(connector, layout)
    })
  const lowered = shortened(views)
  if (lowered.length === 0) return []
  await Promise.all(lowered.map((p) => send(connector, p, [['CONFIG', 'SET', 'cluster-node-timeout', configured]])))
  options.onProgress?.({step: 'restore-timeout', message: `cluster-node-timeout ${configured} ms again on ${plural(lowered.length, 'node')}`})
  return [`CONFIG SET cluster-node-timeout ${configured} on ${plural(lowered.length, 'node')}`]
}

export async function assignSlots(connector: RedisConnector, layout: ClusterLayout, options: FormOptions = {}): Promise<string[]> {
  const views = await observeAll(connector, layout)
  const actions = await Promise.all(layout.shards.map(async ({master, slots}) => {
    const view = viewOf(views, master)
    const owned = new Set(rangesToSlots(view.myself.slots))
    const missing = slotsToRanges(rangesToSlots(slots).filter((s) => !owned.has(s)))
    if (missing.length === 0) return []
    await send(connector, master, [['CLUSTER', 'ADDSLOTSRANGE', ...missing.flatMap((r) => [r.start, r.end])]])
    return [`${master.pod}: CLUSTER ADDSLOTSRANGE ${formatRanges(missing)}`]
  }))
  const after = await observeAll(connector, layout)
  for (const {master, slots} of layout.shards) {
    const owned = new Set(rangesToSlots(viewOf(after, master).myself.slots))
    const absent = rangesToSlots(slots).filter((s) => !owned.has(s))
    if (absent.length > 0) throw new BugError(`${master.pod} still lacks slots ${formatRanges(slotsToRanges(absent))} after CLUSTER ADDSLOTSRANGE.`)
  }
  if (actions.flat().length > 0) options.onProgress?.({step: 'assign-slots', message: `slots assigned on ${plural(actions.flat().length, 'master')}`})
  return actions.flat()
}

/**
 * Distinct config epochs before the nodes meet, as redis-cli does: otherwise the nodes settle epoch collisions
 * one bump at a time. Redis accepts SET-CONFIG-EPOCH only while a node knows no other node and its epoch is 0,
 * so a node that has already met others keeps what it has.
 */
export async function setConfigEpochs(connector: RedisConnector, layout: ClusterLayout, options: FormOptions = {}): Promise<string[]> {
  const views = await observeAll(connector, layout)
  const pods = podsOf(layout)
  const actions = await Promise.all(pods.map(async (pod, i) => {
    const view = viewOf(views, pod)
    if (view.myself.configEpoch !== 0 || view.info.currentEpoch !== 0 || view.nodes.length > 1) return []
    await send(connector, pod, [['CLUSTER', 'SET-CONFIG-EPOCH', i + 1]])
    return [`${pod.pod}: CLUSTER SET-CONFIG-EPOCH ${i + 1}`]
  }))
  if (actions.flat().length > 0) options.onProgress?.({step: 'config-epochs', message: `config epochs set on ${actions.flat().length} of ${plural(pods.length, 'node')}`})
  return actions.flat()
}

/**
 * Handshakes started at once across the cluster while it forms (measured in bench/README.md "100 masters"). Each
 * handshake's MEET, PING and PONG carry gossip about a tenth of the nodes, so its cost grows with the cluster: 60
 * nodes meet all at once (1,770 handshakes) as before; 200 nodes meeting all at once (19,900) overran 2 cores, the
 * slowest node took 21.7 s to answer its MEETs and dropped handshakes older than the node timeout.
 */
export const meetWindow = (nodes: number): number => Math.floor(120_000 / Math.max(1, nodes))

/**
 * Each pair of nodes that do not know each other meets once (by pod IP and bus port), at most meetWindow pairs in
 * flight (planMeets): the next pairs go out as earlier ones know each other, and a pair whose handshake Redis
 * dropped (after max(cluster-node-timeout, 1 s)) is introduced again. Returns once every pair of strangers has been
 * introduced; the next step waits for the last ones. Meeting one node and letting gossip spread the rest is enough
 * in the end, but gossip carries only a few nodes per ping and pings each node about once per second: 6 nodes took
 * 2 s, 60 nodes much longer.
 */
export async function meetNodes(connector: RedisConnector, layout: ClusterLayout, options: FormOptions = {}): Promise<string[]> {
  const pods = podsOf(layout)
  const window = options.meetWindow ?? meetWindow(pods.length)
  const sentAt = new Map<string, number>()
  const introduced: MeetPair[] = []
  await waitUntil('every pair of nodes to be introduced', async () => {
    const views = await observeAll(connector, layout)
    const nodes = pods.map((p) => viewOf(views, p))
    const knowsPeer = (a: number, b: number): boolean => knows(nodes[a], nodes[b].id)
    const strangers = (a: number, b: number): boolean => !knowsPeer(a, b) && !knowsPeer(b, a)
    const retryMs = Math.max(1000, ...nodes.map((n) => n.nodeTimeoutMs ?? 0)) + 1000
    for (const [key, at] of sentAt) {
      const [a, b] = key.split('-').map(Number)
      if ((knowsPeer(a, b) && knowsPeer(b, a)) || Date.now() - at > retryMs) sentAt.delete(key)
    }
    const picks = planMeets(pods.length, strangers, new Set(sentAt.keys()), window - sentAt.size)
    const bySender = Map.groupBy(picks, (p) => p.from)
    await Promise.all([...bySender].map(([from, pairs]) => meetAll(connector, pods[from], pairs.map((p) => pods[p.to]), views)))
    for (const {from, to} of picks) sentAt.set(pairKey(from, to), Date.now())
    introduced.push(...picks)
    const waiting = planMeets(pods.length, strangers, new Set(sentAt.keys()), 1).length
    if (waiting === 0) return {done: true, value: undefined}
    return {done: false, missing: `${plural(sentAt.size, 'handshake')} under way (at most ${window} at once), more pairs of nodes still to introduce`}
  }, stepWait(connector, options, 'meet'))
  const actions = [...Map.groupBy(introduced, (p) => p.from)].sort(([a], [b]) => a - b)
    .map(([from, pairs]) => `${pods[from].pod}: CLUSTER MEET ${pairs.map((p) => pods[p.to].pod).join(', ')}`)
  if (actions.length > 0) options.onProgress?.({step: 'meet', message: `${plural(actions.length, 'node')} met the nodes ${agree(actions.length, 'it', 'they')} did not know`})
  return actions
}

/**
 * Waits until every node knows every node, then has each master announce its slots to the nodes that do not
 * see them yet, and waits until all agree. A node learns a new peer's slots from that peer's next ping, which
 * comes after up to cluster-node-timeout / 2; a MEET carries them at once and, between nodes that already know
 * each other, changes nothing else.
 */
export async function waitForAgreement(connector: RedisConnector, layout: ClusterLayout, options: FormOptions = {}): Promise<string[]> {
  const waitOptions = stepWait(connector, options, 'converge')
  const views = await acquainted(connector, layout, waitOptions)
  const announcements = layout.shards.map(({master}) => {
    const own = viewOf(views, master)
    return {master, unaware: podsOf(layout).filter((p) => p !== master && !seesSlotsOf(viewOf(views, p), own))}
  }).filter(({unaware}) => unaware.length > 0)
  const handshakes = announcements.reduce((sum, {unaware}) => sum + unaware.length, 0)
  // Each announcing MEET is a whole handshake, even between nodes that know each other: more than a window of them
  // would cost more than the pings they save.
  const announced = handshakes <= (options.meetWindow ?? meetWindow(podsOf(layout).length)) ? announcements : []
  const actions = await Promise.all(announced.map(async ({master, unaware}) => {
    await meetAll(connector, master, unaware, views)
    return `${master.pod}: CLUSTER MEET ${unaware.map((p) => p.pod).join(', ')} (to announce its slots)`
  }))
  const byPings = announced.length === 0 && handshakes > 0 ? `, slots spread by each master's pings (${handshakes} MEETs to announce them would be too many handshakes at once)` : ''
  await waitUntil('every node to agree on the slots', async () => {
    const probe = agreementProbe(layout, await observeAll(connector, layout))
    return probe.done ? probe : {done: false, missing: probe.missing + byPings}
  }, waitOptions)
  options.onProgress?.({step: 'converge', message: `${plural(podsOf(layout).length, 'node')} know each other and agree on the slots`})
  return actions
}

/** Waits until each of the pods knows every other one by id, as MEETs and then gossip make them; changes nothing. */
export async function waitUntilAcquainted(connector: RedisConnector, pods: readonly PodRef[], options: WaitOptions): Promise<void> {
  await acquainted(connector, {shards: pods.map((master) => ({master, slots: [], replicas: []}))}, options)
}

async function acquainted(connector: RedisConnector, layout: ClusterLayout, options: WaitOptions): Promise<Map<string, NodeView>> {
  return waitUntil('every node to know every node', async () => {
    const current = await observeAll(connector, layout)
    const missing = unknownPeers(layout, current)
    return missing.length === 0 ? {done: true, value: current} : {done: false, missing: summarize(missing)}
  }, {signal: connector.signal, ...options})
}

function seesSlotsOf(view: NodeView, master: NodeView): boolean {
  const line = lineOf(view, master.id)
  return line !== undefined && formatRanges(line.slots) === formatRanges(master.myself.slots)
}

async function meetAll(connector: RedisConnector, from: PodRef, to: readonly PodRef[], views: Map<string, NodeView>): Promise<void> {
  await send(connector, from, meets(to, views))
}

const meets = (to: readonly PodRef[], views: Map<string, NodeView>): (string | number)[][] =>
  to.map((other) => ['CLUSTER', 'MEET', other.ip, other.port, viewOf(views, other).myself.busPort])

/**
 * The last wait, not the first: a master turns cluster_state:ok only once it has not been in a minority (for a
 * node with no slots, always) for min(cluster-node-timeout, 5 s), Redis's rejoin delay; replicas are attached
 * meanwhile.
 */
export async function waitForClusterOk(connector: RedisConnector, layout: ClusterLayout, options: FormOptions = {}): Promise<string[]> {
  await waitUntil('every node to report cluster_state:ok', async () => {
    const views = await observeAll(connector, layout)
    const agreement = agreementProbe(layout, views)
    if (!agreement.done) return agreement
    const failing = podsOf(layout).filter((p) => viewOf(views, p).info.state !== 'ok').map((p) => p.pod)
    return failing.length === 0 ? {done: true, value: undefined} : {done: false, missing: clusterOkProgress(podsOf(layout).length, failing)}
  }, stepWait(connector, options, 'ready'))
  options.onProgress?.({step: 'ready', message: 'cluster_state:ok on every node'})
  return []
}

/**
 * How far the wait for cluster_state:ok has come. A node still in fail is the normal state of a cluster forming or
 * taking in new nodes (Redis holds a master that was in a minority in fail for its rejoin delay), so it reads as
 * the count that is there and the nodes still waited for, not as a failure.
 */
export function clusterOkProgress(nodes: number, waitingFor: readonly string[]): string {
  const ok = nodes - waitingFor.length
  return `${ok} of ${plural(nodes, 'node')} ${agree(ok, 'reports', 'report')} cluster_state:ok, waiting for ${firstFew(waitingFor)}`
}

/** CLUSTER REPLICATE needs the replica to know its master ("No such master ID"), hence after waitForAgreement. */
export async function replicate(connector: RedisConnector, layout: ClusterLayout, options: FormOptions = {}): Promise<string[]> {
  const views = await observeAll(connector, layout)
  const pods = podsOf(layout)
  const attach = layout.shards.flatMap(({master, replicas}) => replicas.map((replica) => ({master, replica, masterId: viewOf(views, master).id})))
    .filter(({replica, masterId}) => {
      const view = viewOf(views, replica)
      return view.myself.role !== 'replica' || view.myself.masterId !== masterId
    })
  // A node's new role reaches the others with its next ping to each, about once per node timeout / 2. A MEET
  // carries the role in its header right away, and to a node that already knows the sender it changes nothing but
  // costs a whole handshake: beyond a window of them, the pings carry the role.
  const announce = attach.length * (pods.length - 1) <= (options.meetWindow ?? meetWindow(pods.length))
  const atOnce = options.replicasAtOnce ?? REPLICAS_AT_ONCE
  const actions: string[] = []
  for (let start = 0; start < attach.length; start += atOnce) {
    const batch = attach.slice(start, start + atOnce)
    if (start > 0) await firstSyncsDone(connector, attach.slice(start - atOnce, start), options)
    actions.push(...await Promise.all(batch.map(async ({master, replica, masterId}) => {
      if (!knows(viewOf(views, replica), masterId)) throw new PreconditionError(`${replica.pod} does not know its master ${master.pod} (${masterId}) yet.`)
      // One pipeline: a MEET queued behind the REPLICATE goes out once the node is a replica, with that role.
      await send(connector, replica, [['CLUSTER', 'REPLICATE', masterId], ...(announce ? meets(pods.filter((p) => p !== replica), views) : [])])
      return `${replica.pod}: CLUSTER REPLICATE ${masterId} (${master.pod})`
    })))
  }
  const attached = actions.length
  if (attached > 0) options.onProgress?.({step: 'replicate', message: `${plural(attached, 'replica')} now ${agree(attached, 'follows its master', 'follow their masters')}`})
  return actions
}

/**
 * Replicas attached at once. Each first sync forks its master: 100 at once on 2 cores (100 masters) kept the
 * syncs going for over 40 s and delayed the nodes' pings until a master was taken for failed and failed over.
 */
export const REPLICAS_AT_ONCE = 30

/** Waits until each replica of the batch has its link to its master up and no sync under way. */
async function firstSyncsDone(connector: RedisConnector, batch: readonly {master: PodRef; replica: PodRef}[], options: FormOptions): Promise<void> {
  const layout: ClusterLayout = {shards: batch.map(({master, replica}) => ({master, slots: [], replicas: [replica]}))}
  await waitUntil(`the first sync of ${plural(batch.length, 'replica')} before the next ones attach`, async () => {
    const views = await observeAll(connector, layout)
    const syncing = batch.filter(({master, replica}) => {
      const state = syncState(viewOf(views, replica), viewOf(views, master))?.state
      return state === undefined || state === 'syncing' || state === 'link-down'
    }).map(({replica}) => replica.pod)
    return syncing.length === 0 ? {done: true, value: undefined} : {done: false, missing: `${summarize(syncing)} still in ${agree(syncing.length, 'its', 'their')} first sync`}
  }, stepWait(connector, options, 'replicate'))
}

/**
 * Ready means every replica holds its master's data: its link is up, no sync is under way and it has reached the
 * offset its master had at the previous poll (under writes the two are seldom equal at one instant), and every
 * node's view shows it as that master's replica. A replica attached to a master with data starts its full sync
 * only after repl-diskless-sync-delay (5 s on Redis 7.0).
 */
export async function waitForReplicas(connector: RedisConnector, layout: ClusterLayout, options: FormOptions = {}): Promise<string[]> {
  let offsetsBefore = new Map<string, number>()
  await waitUntil('every replica to be in sync with its master', async () => {
    const views = await observeAll(connector, layout)
    const agreement = agreementProbe(layout, views)
    if (!agreement.done) return agreement
    const missing: string[] = []
    for (const {master, replicas} of layout.shards) {
      const masterView = viewOf(views, master)
      for (const replica of replicas) {
        const replicaView = viewOf(views, replica)
        const sync = replicaView.replication.master?.host === master.ip && replicaView.replication.master.port === master.port
          ? syncState(replicaView, masterView, {masterOffsetBefore: offsetsBefore.get(master.pod)})
          : undefined
        if (sync?.state === 'syncing') missing.push(`${replica.pod} ${syncProblem(sync, master.pod)} (Redis starts a diskless sync after repl-diskless-sync-delay, 5 s by default)`)
        else if (sync?.state !== 'in-sync') missing.push(`${replica.pod} ${sync ? syncProblem(sync, master.pod) : `does not replicate from ${master.pod} yet`}`)
        const unaware = [...views.values()].filter((v) => {
          const line = lineOf(v, replicaView.id)
          return line?.role !== 'replica' || line.masterId !== masterView.id
        })
        if (unaware.length > 0) missing.push(`${plural(unaware.length, 'node')} ${agree(unaware.length, 'does', 'do')} not yet see ${replica.pod} as a replica of ${master.pod}`)
      }
    }
    offsetsBefore = new Map(layout.shards.map(({master}) => [master.pod, viewOf(views, master).replication.offset]))
    return missing.length === 0 ? {done: true, value: undefined} : {done: false, missing: summarize(missing)}
  }, stepWait(connector, options, 'attach'))
  options.onProgress?.({step: 'attach', message: 'every replica is in sync with its master'})
  return []
}

function unknownPeers(layout: ClusterLayout, views: Map<string, NodeView>): string[] {
  const pods = podsOf(layout)
  return pods.flatMap((pod) => {
    const view = viewOf(views, pod)
    const unknown = pods.filter((p) => p !== pod && !knows(view, viewOf(views, p).id)).map((p) => p.pod)
    return unknown.length === 0 ? [] : [`${pod.pod} does not know ${unknown.length === 1 ? unknown[0] : `${unknown.length} nodes`} yet`]
  })
}

/** Done when every node knows every other node by id and sees the slot map of the layout. */
function agreementProbe(layout: ClusterLayout, views: Map<string, NodeView>): Probe<void> {
  const missing = unknownPeers(layout, views)
  // Masters without slots (new ones on scale-out) have no place in a slot map.
  const expected = layout.shards.filter(({slots}) => slots.length > 0).map(({master, slots}) => `${viewOf(views, master).id}:${formatRanges(slotsToRanges(rangesToSlots(slots)))}`).sort().join('|')
  const disagreeing = podsOf(layout).filter((p) => slotMapSignature(viewOf(views, p)) !== expected)
  if (disagreeing.length > 0) missing.push(`${plural(disagreeing.length, 'node')} ${agree(disagreeing.length, 'does', 'do')} not yet see the planned slot map`)
  return missing.length === 0 ? {done: true, value: undefined} : {done: false, missing: summarize(missing)}
}

/** How a forming step waits: within its bound (60 s unless given), stopped by the command, its progress under its name. */
function stepWait(connector: RedisConnector, options: FormOptions, step: FormStep): WaitOptions {
  return {
    timeoutMs: options.timeoutMs ?? 60_000,
    intervalMs: options.intervalMs,
    signal: connector.signal,
    onWaiting: (missing) => options.onProgress?.({step, message: missing}),
  }
}

const summarize = (missing: string[]): string =>
  missing.length <= 3 ? missing.join('; ') : `${missing.slice(0, 3).join('; ')}; and ${missing.length - 3} more`

function knows(view: NodeView, id: string): boolean {
  const line = lineOf(view, id)
  return line !== undefined && !isTentative(line)
}

const linesById = new WeakMap<NodeView, Map<string, ClusterNodeLine>>()

/**
 * A node's line for a peer, through an index made once per view: every probe asks each node about every other one,
 * and a search of its lines each time made a probe grow with the cube of the nodes (8 million comparisons at 200).
 */
function lineOf(view: NodeView, id: string): ClusterNodeLine | undefined {
  let lines = linesById.get(view)
  if (!lines) {
    lines = new Map(view.nodes.map((n) => [n.id, n]))
    linesById.set(view, lines)
  }
  return lines.get(id)
}

/** Sends the commands to one node in one pipeline; a refused command becomes a typed error naming pod and command. */
async function send(connector: RedisConnector, pod: PodRef, commands: (string | number)[][]): Promise<void> {
  const addr = podAddress(pod)
  // A node too busy to answer in time has refused nothing: pipelined says it did not answer.
  const replies = await pipelined(await connector.client(addr), addr, commands)
  replies.forEach((reply, i) => {
    if (!reply.ok) {
      const {error} = reply
      throw new PreconditionError(`${pod.pod} refused ${commands[i].join(' ')}: ${error.message}`, [
        'redisctl check shows the state of every node; run the same command again once it is fixed.',
      ])
    }
  })
}

const podsOf = (layout: ClusterLayout): PodRef[] => layout.shards.flatMap((s) => [s.master, ...s.replicas])


/** Reads every node of the layout; a node that cannot be read stops the forming with its typed error. */
async function observeAll(connector: RedisConnector, layout: ClusterLayout): Promise<Map<string, NodeView>> {
  const observation: ClusterObservation = await observeCluster(connector, podsOf(layout).map(podAddress))
  for (const node of observation.nodes) {
    if (!node.ok) throw observationError(node)
  }
  return new Map(observation.views.map((v) => [addressKey(v.address), v]))
}

function viewOf(views: Map<string, NodeView>, pod: PodRef): NodeView {
  const view = views.get(addressKey(podAddress(pod)))
  if (!view) throw new PreconditionError(`${pod.pod} (${pod.ip}:${pod.port}) was not observed.`)
  return view
}

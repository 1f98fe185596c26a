import type {V1PodTemplateSpec, V1StatefulSet} from '@kubernetes/client-node'
import {PatchStrategy, setHeaderOptions} from '@kubernetes/client-node'
import type {ListrTask} from 'listr2'

import {NotFoundError, PreconditionError, UsageError} from '../errors.js'
import {writeRedisConf} from '../kube/configmaps.js'
import {requireSelfManaged} from '../kube/ownership.js'
import {listRedisPods, type RedisPod} from '../kube/pods.js'
import {deletePod} from '../kube/delete.js'
import {controllerRevisions, readStatefulSet, replaceTemplate} from '../kube/statefulset.js'
import {CONFIG_ANNOTATION, configMapName} from '../manifests/cluster.js'
import {changedConfig, changedTemplate, confChanges, type ConfLineChange, type TemplateChange} from '../manifests/rollout.js'
import {failOver} from '../redis/failover.js'
import type {Topology, TopologyNode} from '../topology/model.js'
import {describeRefusal, describeStep, planRollout, type RolloutPlan, type RolloutStep} from '../topology/rollout-plan.js'
import {offsetsByAddress, replicaSync, syncProblem, syncState} from '../topology/sync.js'
import {waitUntil} from '../util/wait.js'
import {clusterOver} from './inspect.js'
import {toPodRefs, waitForReadyPods} from './pods.js'
import {progress} from './progress.js'
import {openRedis, type KubeTargetSession, type RedisAccess, type TargetOptions} from './session.js'

/**
 * The StatefulSet annotation that names the revision an --undo goes back to while it rolls: run again after a kill,
 * --undo finishes that roll instead of going back once more.
 */
export const UNDO_ANNOTATION = 'redisctl.io/undo-to'

export interface RolloutRequest {
  change: TemplateChange
  /** `redisctl restart`: nothing changes but the restartedAt annotation. */
  restart: boolean
  undo: boolean
  allowUnavailable: boolean
}

export interface RolloutContext {
  options: TargetOptions
  target: KubeTargetSession
  statefulSet: string
  timeoutMs: number
  request: RolloutRequest
  prepared?: PreparedRollout
  /** The revision every pod is rolled to, once the template is written. */
  updateRevision?: string
  done: RolloutStep[]
  access?: RedisAccess
  /** The pods (name@ip) `access` was opened for: port-forwards are made per pod, so a pod with a new IP needs new ones. */
  accessFor?: string
}

export interface PreparedRollout {
  set: V1StatefulSet
  /** The template to write, when it differs from the set's (absent: the roll finishes what is under way). */
  template?: V1PodTemplateSpec
  /** redis.conf to write into the ConfigMap, when it changes. */
  config?: string
  /** The lines of redis.conf that `config` changes. */
  configChanges: ConfLineChange[]
  /** The set has RollingUpdate: it is switched to OnDelete in the same write as the template. */
  switchToOnDelete: boolean
  /** --undo: the revision it goes back to. */
  undoTo?: string
  /** A roll was under way (pods on another revision than the update one) and this run finishes it. */
  resumed: boolean
  /** The set carries UNDO_ANNOTATION from an --undo not yet finished: cleared once every pod is rolled. */
  undoMarked: boolean
  /** What the roll will do, planned from the cluster as observed. */
  plan: RolloutPlan
}

/** A revision that does not exist yet: the one the new template will get. Every pod is on another. */
const NEXT_REVISION = '(the new template)'

interface Observed {
  topology: Topology
  pods: RedisPod[]
}

/** Lists the pods and reads every node, (re)opening Redis access for the pods as they are now. */
async function observe(ctx: RolloutContext): Promise<Observed> {
  const pods = (await listRedisPods(ctx.target.kube, ctx.target.selector)).filter((p) => !p.terminating)
  const refs = toPodRefs(pods)
  const key = refs.map((r) => `${r.pod}@${r.ip}`).join(',')
  if (!ctx.access || (ctx.access.mode === 'port-forward' && ctx.accessFor !== key)) {
    await ctx.access?.close()
    ctx.access = await openRedis(ctx.target, pods, ctx.options.connect)
    ctx.accessFor = key
  }
  return {topology: await clusterOver(ctx.target, ctx.access, pods).observe(), pods}
}

const revisionsOf = (pods: readonly RedisPod[]): Map<string, string | undefined> => new Map(pods.map((p) => [p.name, p.revision]))

/** JSON with sorted keys: the API server may keep a template's fields in another order than they were written. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

async function readConfig(ctx: RolloutContext): Promise<string | undefined> {
  const cm = await ctx.target.kube.find(`reading ConfigMap ${configMapName(ctx.statefulSet)}`, () =>
    ctx.target.kube.core.readNamespacedConfigMap({name: configMapName(ctx.statefulSet), namespace: ctx.target.kube.namespace}))
  return cm?.data?.['redis.conf']
}

/** The template --undo goes back to: the newest revision older than the update revision, as kubectl rollout undo takes. */
async function previousTemplate(ctx: RolloutContext, set: V1StatefulSet): Promise<{name: string; template: V1PodTemplateSpec}> {
  const revisions = await controllerRevisions(ctx.target.kube, set)
  const current = revisions.find((r) => r.metadata?.name === set.status?.updateRevision)
  const previous = revisions.filter((r) => r.revision < (current?.revision ?? Number.MAX_SAFE_INTEGER)).at(-1)
  if (!previous) {
    throw new PreconditionError(`StatefulSet ${ctx.statefulSet} has no earlier revision to go back to (kubectl get controllerrevisions); nothing was changed.`)
  }
  const {$patch: _replace, ...template} = (previous.data as {spec: {template: V1PodTemplateSpec & {$patch?: string}}}).spec.template
  return {name: previous.metadata!.name!, template}
}

/**
 * Reads the StatefulSet, its pods and every node, and plans the roll; changes nothing. This is the dry run, and the
 * run's first step. A roll under way (some pods on another revision than the update one) is finished rather than
 * restarted: `restart` adds no new restartedAt, `--undo` marked by UNDO_ANNOTATION does not go back again.
 */
export async function prepareRollout(ctx: RolloutContext): Promise<PreparedRollout> {
  const {kube} = ctx.target
  const set = await readStatefulSet(kube, ctx.statefulSet)
  if (!set?.spec) {
    throw new NotFoundError(`StatefulSet ${ctx.statefulSet} does not exist in namespace ${kube.namespace}: a rollout changes the StatefulSet's pod template.`, [
      'Name the cluster\'s StatefulSet with --name (kubectl get statefulsets).',
    ])
  }
  const {topology, pods} = await observe(ctx)
  requireSelfManaged(set, pods, 'roll')
  const updateRevision = set.status?.updateRevision ?? ''
  const rolling = pods.some((p) => p.revision !== updateRevision)
  const {request} = ctx
  let template: V1PodTemplateSpec | undefined
  let before: string | undefined
  let config: string | undefined
  let undoTo: string | undefined
  if (request.undo) {
    if (set.metadata?.annotations?.[UNDO_ANNOTATION] !== updateRevision) {
      const previous = await previousTemplate(ctx, set)
      template = previous.template
      undoTo = previous.name
      before = await readConfig(ctx)
      const kept = previous.template.metadata?.annotations?.[CONFIG_ANNOTATION]
      if (before !== undefined && kept !== undefined && kept !== before) config = kept
    }
  } else if (!(request.restart && rolling)) {
    before = await readConfig(ctx)
    if (before === undefined && (request.change.settings?.length || request.change.memory)) {
      throw new PreconditionError(`The ConfigMap ${configMapName(ctx.statefulSet)} with redis.conf does not exist, so --set and --memory cannot change the Redis config; nothing was changed.`, [
        'These work on clusters made by redisctl cluster create; change an adopted cluster\'s config where it is kept.',
      ])
    }
    const after = before === undefined ? undefined : changedConfig(before, request.change)
    const change = request.restart ? {...request.change, restartedAt: new Date().toISOString()} : request.change
    const next = changedTemplate(set.spec.template, change, after)
    if (canonical(next) !== canonical(set.spec.template)) template = next
    if (after !== before) config = after
  }
  const switchToOnDelete = set.spec.updateStrategy?.type !== 'OnDelete'
  const plan = planRollout(topology, {revisions: revisionsOf(pods), updateRevision: undoTo ?? (template ? NEXT_REVISION : updateRevision), allowUnavailable: request.allowUnavailable})
  const undoMarked = set.metadata?.annotations?.[UNDO_ANNOTATION] !== undefined
  const configChanges = config === undefined ? [] : confChanges(before ?? '', config)
  return {set, template, config, configChanges, switchToOnDelete, undoTo, undoMarked, resumed: !template && rolling, plan}
}

/** Refuses the roll before anything changes when a shard would lose its master with no replica to take over. */
function requireNoRefusals(plan: RolloutPlan): void {
  if (plan.refusals.length === 0) return
  throw new PreconditionError(`The rollout would leave slots without a master: ${plan.refusals.map(describeRefusal).join(' ')} Nothing was changed.`, [
    'Wait until the replicas are in sync (redisctl status), or give the shard a replica (redisctl repair).',
    'Or accept that its slots refuse writes while its pod restarts: --allow-unavailable.',
  ])
}

/** How long a replica that was just restarted may be seen with its link down before it counts as not in sync. */
const LINK_GRACE_MS = 10_000

/**
 * What keeps the cluster from being ready for the next step: a pod that does not answer, a replica not in sync, a node
 * known at an old address. A pod not on `revision` that does not answer is left out: the roll restarts it anyway (a
 * pod stuck on a bad image is how an --undo finds the cluster).
 */
function unsettled(observed: Observed, revision: string, linkGrace: boolean, earlier: ReadonlyMap<string, number>): string | undefined {
  const outdated = new Set(observed.pods.filter((p) => p.revision !== revision).map((p) => p.name))
  const missing: string[] = []
  for (const node of observed.topology.nodes) {
    if (!node.pod || (outdated.has(node.pod.pod) && !node.reachable)) continue
    const sync = replicaSync(node, observed.topology.nodes, earlier)
    if (!node.reachable) missing.push(`${node.pod.pod} does not answer (${node.error?.message ?? 'not observed'})`)
    else if (sync && sync.state !== 'in-sync' && (sync.state !== 'link-down' || linkGrace)) {
      const master = observed.topology.nodes.find((m) => m.id === node.masterId)
      missing.push(`${node.pod.pod} ${syncProblem(sync, master?.pod?.pod ?? node.masterId ?? '?')}`)
    }
  }
  if (observed.topology.staleAddresses.length > 0) missing.push(`${observed.topology.staleAddresses.length} nodes still known at an old address`)
  if (!observed.topology.agreed) missing.push('the nodes do not agree on the slot map yet')
  return missing.length > 0 ? missing.join('; ') : undefined
}

/** Waits until every pod on `revision` is Ready, answers and, as a replica, is in sync; returns that observation. */
async function settle(ctx: RolloutContext, revision: string, task: Task): Promise<Observed> {
  const replicas = ctx.prepared!.set.spec?.replicas ?? 0
  const exempt = (p: RedisPod): boolean => p.revision !== revision
  await waitForReadyPods(ctx.target.kube, ctx.target.selector, replicas, ctx.timeoutMs, {onWaiting: progress(task), exempt})
  const started = Date.now()
  let earlier = new Map<string, number>()
  return waitUntil('every replica to be in sync with its master', async () => {
    const observed = await observe(ctx)
    const missing = unsettled(observed, revision, Date.now() - started < LINK_GRACE_MS, earlier)
    earlier = offsetsByAddress(observed.topology.nodes)
    return missing ? {done: false, missing} : {done: true, value: observed}
  }, {timeoutMs: ctx.timeoutMs, intervalMs: 100, signal: ctx.target.kube.signal, onWaiting: progress(task)})
}

const planRevision = (prepared: PreparedRollout): string => prepared.undoTo ?? (prepared.template ? NEXT_REVISION : prepared.set.status?.updateRevision ?? '')

export function rolloutTasks(): ListrTask<RolloutContext>[] {
  return [
    {
      title: 'Wait until every pod is Ready and every replica in sync',
      task: async (ctx, task) => {
        const prepared = ctx.prepared!
        const settled = await settle(ctx, planRevision(prepared), task)
        // Planned again from the settled cluster: a replica that finished its sync meanwhile is now a failover target.
        prepared.plan = planRollout(settled.topology, {revisions: revisionsOf(settled.pods), updateRevision: planRevision(prepared), allowUnavailable: ctx.request.allowUnavailable})
        requireNoRefusals(prepared.plan)
      },
    },
    {
      title: 'Write the new pod template',
      skip: (ctx) => (!ctx.prepared!.template && !ctx.prepared!.switchToOnDelete && !ctx.prepared!.config ? 'the template is already the one to roll to' : false),
      task: async (ctx, task) => {
        const {template, config, switchToOnDelete, undoTo, set} = ctx.prepared!
        const {kube} = ctx.target
        if (config !== undefined) {
          await writeRedisConf(kube, configMapName(ctx.statefulSet), config)
        }
        if (template || switchToOnDelete) {
          const {[UNDO_ANNOTATION]: _earlier, ...annotations} = set.metadata?.annotations ?? {}
          await replaceTemplate(kube, ctx.statefulSet, template ?? set.spec!.template, {
            onDelete: switchToOnDelete,
            annotations: undoTo ? {...annotations, [UNDO_ANNOTATION]: undoTo} : annotations,
          })
        }
        task.title = [template ? 'Wrote the new pod template' : undefined, config !== undefined ? 'redis.conf' : undefined,
          switchToOnDelete ? 'switched the StatefulSet from RollingUpdate to OnDelete' : undefined].filter(Boolean).join(', ')
      },
    },
    {
      title: 'Roll the pods, one at a time',
      task: async (ctx, task) => {
        ctx.updateRevision = await updateRevisionOf(ctx)
        for (let guard = 0; ; guard++) {
          const {topology, pods} = await settle(ctx, ctx.updateRevision, task)
          const plan = planRollout(topology, {revisions: revisionsOf(pods), updateRevision: ctx.updateRevision, allowUnavailable: ctx.request.allowUnavailable})
          requireNoRefusals(plan)
          const [step] = plan.steps
          if (!step) break
          // Each step leaves one pod fewer on an old revision; more rounds than pods mean the cluster keeps changing under the roll.
          if (guard > pods.length * 2) throw new PreconditionError('The cluster kept changing under the roll (roles or pods not as planned); run the same command again.')
          task.output = describeStep(step)
          await runStep(ctx, step, topology, pods, task)
          ctx.done.push(step)
        }
        if (ctx.prepared!.undoMarked || ctx.prepared!.undoTo) await clearUndoMark(ctx)
        task.title = `Rolled ${ctx.done.filter((s) => s.kind === 'restart').length} pods onto revision ${ctx.updateRevision}`
      },
    },
  ]
}

/** The set's update revision once the controller has seen the latest template (status.observedGeneration). */
async function updateRevisionOf(ctx: RolloutContext): Promise<string> {
  return waitUntil(`the StatefulSet controller to see the new template of ${ctx.statefulSet}`, async () => {
    const set = await readStatefulSet(ctx.target.kube, ctx.statefulSet)
    const seen = (set?.status?.observedGeneration ?? 0) >= (set?.metadata?.generation ?? 0) && set?.status?.updateRevision
    return seen ? {done: true, value: set.status!.updateRevision!} : {done: false, missing: 'status.observedGeneration is behind metadata.generation'}
  }, {timeoutMs: ctx.timeoutMs, intervalMs: 100, signal: ctx.target.kube.signal})
}

async function clearUndoMark(ctx: RolloutContext): Promise<void> {
  await ctx.target.kube.call(`annotating StatefulSet ${ctx.statefulSet}`, () => ctx.target.kube.apps.patchNamespacedStatefulSet(
    {name: ctx.statefulSet, namespace: ctx.target.kube.namespace, body: {metadata: {annotations: {[UNDO_ANNOTATION]: null}}}},
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch)))
}

interface Task {
  output: string | undefined
}

const nodeOf = (topology: Topology, pod: string): TopologyNode | undefined => topology.nodes.find((n) => n.pod?.pod === pod)

async function runStep(ctx: RolloutContext, step: RolloutStep, topology: Topology, pods: RedisPod[], task: Task): Promise<void> {
  if (step.kind === 'failover') return handOver(ctx, step, topology, task)
  const pod = pods.find((p) => p.name === step.pod)
  if (pod && pod.revision !== ctx.updateRevision) await deletePod(ctx.target.kube, pod.name, pod.uid)
  const replicas = ctx.prepared!.set.spec?.replicas ?? pods.length
  await waitForReadyPods(ctx.target.kube, ctx.target.selector, replicas, ctx.timeoutMs, {
    onWaiting: progress(task),
    exempt: (p) => p.name !== step.pod && p.revision !== ctx.updateRevision,
    pending: (p) => (p.name === step.pod && p.revision !== ctx.updateRevision ? `still on revision ${p.revision ?? 'none'}` : undefined),
  })
  let masterOffsetBefore: number | undefined
  await waitUntil(`${step.pod} to be back in the cluster${step.role === 'replica' ? ` and in sync with ${step.master}` : ''}`, async () => {
    const {topology: now} = await observe(ctx)
    const node = nodeOf(now, step.pod)
    const missing: string[] = []
    if (!node?.reachable) missing.push(`${step.pod} does not answer yet${node?.error ? ` (${node.error.message})` : ''}`)
    else if (step.role === 'replica') {
      const master = nodeOf(now, step.master)
      if (node.role !== 'replica' || !master || node.masterId !== master.id) missing.push(`${step.pod} does not follow ${step.master} yet`)
      else {
        const sync = master.replication && node.replication
          ? syncState({address: node.address, replication: node.replication}, {address: master.address, replication: master.replication}, {masterOffsetBefore})
          : undefined
        masterOffsetBefore = master.replication?.offset
        const problem = sync ? syncProblem(sync, step.master) : `${step.master} did not answer`
        if (problem) missing.push(`${step.pod} ${problem}`)
      }
    } else if (step.role === 'master' && (node.role !== 'master' || node.slotCount === 0 || now.nodes.some((n) => n.pod && n.reachable && n.clusterState !== 'ok'))) {
      missing.push(`${step.pod} does not serve its slots yet`)
    }
    if (node?.id && now.staleAddresses.some((s) => s.id === node.id)) missing.push(`other nodes still know ${step.pod} at its old address`)
    if (node?.flags.some((f) => f === 'fail' || f === 'fail?')) missing.push(`other nodes still flag ${step.pod} as failing`)
    if (!now.agreed) missing.push('the nodes do not agree on the slot map yet')
    return missing.length === 0 ? {done: true, value: undefined} : {done: false, missing: missing.join('; ')}
  }, {timeoutMs: ctx.timeoutMs, intervalMs: 100, signal: ctx.target.kube.signal, onWaiting: progress(task)})
}

/** A planned CLUSTER FAILOVER onto a replica on the update revision, once it is in sync; done when every node agrees. */
async function handOver(ctx: RolloutContext, step: Extract<RolloutStep, {kind: 'failover'}>, topology: Topology, task: Task): Promise<void> {
  const from = nodeOf(topology, step.from)
  const to = nodeOf(topology, step.to)
  if (!from?.id || !to?.id) throw new PreconditionError(`${step.from} or ${step.to} does not answer; run the same command again once both do (redisctl status).`)
  const everyone = topology.nodes.filter((n) => n.pod && n.reachable).map((n) => n.address)
  await failOver(ctx.access!.connector, {address: to.address, id: to.id}, {address: from.address, id: from.id}, everyone, ctx.timeoutMs)
  await waitUntil(`${step.from} to follow ${step.to}`, async () => {
    const node = nodeOf((await observe(ctx)).topology, step.from)
    return node?.role === 'replica' && node.masterId === to.id ? {done: true, value: undefined} : {done: false, missing: `${step.from} is not yet a replica of ${step.to}`}
  }, {timeoutMs: ctx.timeoutMs, intervalMs: 100, signal: ctx.target.kube.signal, onWaiting: progress(task)})
}

/** Flags that make no rollout: nothing to change. */
export function requireSomeChange(change: TemplateChange): void {
  if (!change.image && !change.memory && !change.cpu && !change.settings?.length) {
    throw new UsageError('Nothing to roll out: give --image, --memory, --cpu or --set KEY=VALUE.', [
      'To restart every pod with nothing changed: redisctl restart. To go back to the previous template: redisctl rollout --undo.',
    ])
  }
}

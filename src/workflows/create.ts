import type {KubernetesObject, V1Secret, V1StatefulSet} from '@kubernetes/client-node'
import type {ListrTask} from 'listr2'

import {NotFoundError, PreconditionError, UsageError} from '../errors.js'
import {createObjects, planObjects, type AppliedObject} from '../kube/apply.js'
import {notFoundIn} from '../kube/context.js'
import {listNames} from '../kube/delete.js'
import {listRedisPods, type RedisPod} from '../kube/pods.js'
import {readStatefulSet} from '../kube/statefulset.js'
import {ACL_USERS, ADMIN_USER, generatePassword, readPasswords, userSecret, userSecretName, type ClusterAuth, type UserPasswords} from '../manifests/auth.js'
import {readRedisConf} from '../kube/configmaps.js'
import {readSecret} from '../kube/secrets.js'
import {authConfigSecret, authConfigSecretName, clusterManifests, configMapName, configuredNodeTimeoutMs, podCount, redisConf, REDIS_PORT, type ClusterSpec} from '../manifests/cluster.js'
import {reconcileSpec, runningSettings, type SpecDifference, type SpecFlag} from '../manifests/differences.js'
import {CREATE_STEPS} from '../redis/form.js'
import {observeCluster} from '../redis/observe.js'
import {planCreate, type CreatePlan} from '../topology/create-plan.js'
import {podAddress, type PodRef} from '../topology/model.js'
import {placeShards} from '../topology/placement.js'
import {formatRanges, splitEvenly} from '../topology/slots.js'
import {describeAction} from '../topology/repair-plan.js'
import {requireValidShape, shapeForPods, type ClusterShape} from '../topology/shape.js'
import {clusterOver, observeEveryPodLoaded} from './inspect.js'
import {waitForReadyPods, toPodRefs} from './pods.js'
import {newRepairContext, reintroduce} from './repair.js'
import {progress, runFormStep} from './progress.js'
import {openRedis, rememberedCredentials, type KubeTargetSession, type RedisAccess, type ConnectMode} from './session.js'
import {agree, plural, shapeWords} from '../util/words.js'

export interface CreateInput {
  spec: Omit<ClusterSpec, 'namespace' | 'withAuth' | 'adminSecret'>
  /** ACL users (admin, replication, app) with generated passwords instead of one shared password. */
  acl: boolean
  /** Pods someone else deployed, found by the selector: no manifests are applied. */
  adopt: boolean
  /** Given explicitly: with adoption, masters are otherwise derived from the pod count. */
  mastersGiven: boolean
  /** Settings the command line gave; over a running StatefulSet the others keep what it runs with. */
  given: ReadonlySet<SpecFlag>
  /** --tls without --tls-secret: redisctl makes the CA and the node certificate (spec.tlsSecret names their Secret). */
  generateTls?: boolean
  connect: ConnectMode
  timeoutMs: number
}

export interface CreateContext {
  target: KubeTargetSession
  input: CreateInput
  shape?: ClusterShape
  /** The spec applied: the flags, and over a running StatefulSet what it runs with for the flags left out. */
  spec?: ClusterSpec
  /** What is applied, the auth Secret (it holds the password) first. */
  objects?: KubernetesObject[]
  applied: AppliedObject[]
  pods: RedisPod[]
  access?: RedisAccess
  plan?: CreatePlan
  /** cluster-node-timeout as the pods' redis.conf sets it: the ConfigMap's when it exists (config set may have changed it). */
  configuredNodeTimeoutMs?: number
  actions: string[]
}

export function clusterSpec(ctx: Pick<CreateContext, 'target' | 'input'>): ClusterSpec {
  const {acl, spec} = ctx.input
  return {...spec, namespace: ctx.target.kube.namespace, withAuth: acl || Boolean(ctx.target.credentials),
    ...(acl ? {adminSecret: userSecretName(spec.name, ADMIN_USER.name)} : {})}
}

/** Refuses to re-create over a StatefulSet of another size: that is a scale, not a create. */
function requireMatchingShape(ctx: CreateContext, existing: V1StatefulSet): void {
  const wanted = podCount(ctx.input.spec)
  const replicas = existing.spec?.replicas
  if (replicas !== wanted) {
    throw new PreconditionError(`The StatefulSet ${ctx.input.spec.name} already exists with ${plural(replicas ?? 0, 'pod')}; ${shapeWords(ctx.input.spec)} need ${wanted}.`, [
      `To change the shape of a running cluster use: redisctl scale --masters ${ctx.input.spec.masters}.`,
    ])
  }
}

function describeDifference(d: SpecDifference): string {
  switch (d.flag) {
    case '--password-secret': return d.asked === 'a password' ? '--password-secret (or REDISCTL_PASSWORD) gives a password; the pods run without one'
      : d.asked === 'no password' ? 'no --password-secret (nor REDISCTL_PASSWORD) was given; the pods run with a password'
        : `--password-secret ${d.asked} (the pods name the Secret ${d.running}, which commands without the flag read)`
    case '--acl': return d.asked === 'ACL users' ? '--acl asks for ACL users; the pods run without them' : 'no --acl was given; the pods run with ACL users (run it again with --acl)'
    default: return `${d.flag} ${d.asked} (the pods run with ${d.running})`
  }
}

/** A second create never patches running pods: a setting asked for that they do not have is refused, with the way to get it. */
function refuseDifferences(name: string, differences: readonly SpecDifference[]): void {
  if (differences.length === 0) return
  const volumes = differences.filter((d) => d.needsNewVolumes)
  throw new PreconditionError(`The cluster ${name} already runs, with other settings than asked: ${differences.map(describeDifference).join('; ')}. cluster create changes nothing on a running cluster.`, [
    'Leave out a flag to keep what the cluster runs with.',
    ...(differences.length > volumes.length ? ['To change the image, memory or password, with downtime: redisctl teardown --yes (it keeps the volumes), then this cluster create again: the pods come back on their volumes with every key.'] : []),
    ...(volumes.length > 0 ? [`${volumes.map((d) => d.flag).join(' and ')} are fixed when the volumes are made: only redisctl teardown --with-pvcs --yes (which deletes the data), then this cluster create, changes them.`] : []),
  ])
}

/**
 * Re-applying would write the given password (or none) into the auth config of running pods; a wrong one would
 * lock clients and replicas out at the next restart. So a pod that is already up must accept it first.
 */
async function requireWorkingPassword(ctx: CreateContext): Promise<void> {
  const running = (await listRedisPods(ctx.target.kube, ctx.target.selector)).filter((p) => p.ready && p.ip)
  if (running.length === 0) return
  const access = await openRedis(ctx.target, running.slice(0, 1), ctx.input.connect)
  try {
    await access.connector.client({host: running[0].ip!, port: running[0].port})
  } finally {
    await access.close()
  }
}

/**
 * What create applies, read and decided without changing anything, so that the run and its dry run say the same:
 * over a running StatefulSet, the flags left out keep what it runs with and a flag asking for something else is
 * refused (PreconditionError); objects that exist stay as they are, missing ones are created.
 */
export async function planManifests(ctx: CreateContext): Promise<void> {
  ctx.shape = requireValidShape(ctx.input.spec)
  const existing = await readStatefulSet(ctx.target.kube, ctx.input.spec.name)
  if (existing) requireMatchingShape(ctx, existing)
  const running = existing && runningSettings(existing)
  // No password given: the one the pods remember, as for every other flag left out.
  if (running?.passwordSecret && !ctx.target.credentials && !ctx.input.acl) ctx.target.credentials = await rememberedCredentials(ctx.target.kube, running.passwordSecret)
  const asked = clusterSpec(ctx)
  const {spec, differences} = running ? reconcileSpec(asked, ctx.input.given, running) : {spec: asked, differences: []}
  refuseDifferences(ctx.input.spec.name, differences)
  await requireWorkingPassword(ctx)
  ctx.spec = spec
  const tls = spec.tlsSecret ? await tlsSecrets(ctx, spec.tlsSecret) : []
  const secrets = ctx.input.acl ? await aclSecrets(ctx, spec)
    : ctx.target.credentials ? [authConfigSecret(spec, {kind: 'password', passwords: {password: ctx.target.credentials.password}})] : []
  ctx.objects = [...secrets, ...tls, ...clusterManifests(spec)]
  ctx.applied = await planObjects(ctx.target.kube, ctx.objects)
  // An existing ConfigMap is left as it is, so its value is the one the nodes are to run with.
  const conf = await readRedisConf(ctx.target.kube, configMapName(spec.name)) ?? redisConf(spec)
  ctx.configuredNodeTimeoutMs = configuredNodeTimeoutMs(conf)
}

/**
 * The Secrets a TLS cluster needs before its pods start: with --tls, a CA and a node certificate, made here and
 * created only when missing (certificates of an earlier run stay: a new CA would lock running nodes out of each
 * other); with --tls-secret, nothing, but the Secret must hold a node certificate and the CA.
 */
async function tlsSecrets(ctx: CreateContext, secretName: string): Promise<KubernetesObject[]> {
  const {kube} = ctx.target
  if (!ctx.input.generateTls) {
    const {readTlsSecret} = await import('../tls/client.js')
    if (!(await readTlsSecret(kube, secretName)).cert) {
      throw new UsageError(`The Secret "${secretName}" has no tls.crt and tls.key: the pods need a certificate and its key to serve TLS.`, [
        'Give a Secret in cert-manager\'s layout (tls.crt, tls.key, ca.crt) whose certificate names the pods (*.<headless service>.<namespace>.svc), or let redisctl make one: --tls.',
      ])
    }
    return []
  }
  const {caSecret, createClusterCa, issueNodeCertificate, tlsSecret} = await import('../tls/cluster-certificates.js')
  const {name} = ctx.input.spec
  const ca = await createClusterCa(name, kube.namespace)
  const node = await issueNodeCertificate(ca, name, kube.namespace)
  return [caSecret(name, kube.namespace, ca), tlsSecret(name, kube.namespace, secretName, ca.cert, node)]
}

/**
 * The ACL users' Secrets, their passwords generated the first time and kept after (a re-run, a rotation under way),
 * and the include built from them. redisctl goes on as its own admin user.
 */
async function aclSecrets(ctx: CreateContext, spec: ClusterSpec): Promise<V1Secret[]> {
  const users: Record<string, UserPasswords> = {}
  for (const user of ACL_USERS) {
    const existing = await readSecret(ctx.target.kube, userSecretName(spec.name, user.name))
    users[user.name] = (existing && readPasswords(existing)) ?? {password: generatePassword()}
  }
  ctx.target.credentials = {username: ADMIN_USER.name, password: users[ADMIN_USER.name].password}
  const auth: ClusterAuth = {kind: 'acl', users}
  return [...ACL_USERS.map((u) => userSecret(spec.name, spec.namespace, u.name, users[u.name])), authConfigSecret(spec, auth)]
}

/** Pods someone else deployed: the shape their count allows (or --masters, which must fit it). */
async function adoptedShape(ctx: CreateContext, matching: RedisPod[]): Promise<ClusterShape> {
  const {kube, selector} = ctx.target
  if (matching.length === 0) {
    throw await notFoundIn(kube, new NotFoundError(`No pods match the selector "${selector}" in namespace ${kube.namespace}.`, [
      'Check -l/--selector and -n/--namespace (kubectl get pods --show-labels).',
    ]))
  }
  return shapeForPods(matching.length, ctx.input.spec.replicasPerMaster, ctx.input.mastersGiven ? ctx.input.spec.masters : undefined)
}

/** Reads every node of ctx.pods and plans the forming (or finds it done). */
async function planForming(ctx: CreateContext): Promise<CreatePlan> {
  const refs = toPodRefs(ctx.pods)
  const observation = await observeCluster(ctx.access!.connector, refs.map(podAddress))
  ctx.plan = planCreate(refs, observation, {masters: ctx.shape!.masters, replicasPerMaster: ctx.shape!.replicasPerMaster})
  return ctx.plan
}

export interface CreateDryRun {
  /** What the run would do, for people. */
  lines: string[]
  /** What `-o yaml` prints: the manifests alone (the auth Secret holds the password: named in `lines`, never printed). */
  manifests: KubernetesObject[]
}

/**
 * The run's plan without its changes: the same objects planned (and the same refusals), and, when the pods already
 * run, the same forming plan read from them. Before the pods exist, the masters are the ones the placement picks
 * from their ordinals; the run picks again once they are scheduled, to spread them over Kubernetes nodes and zones.
 */
export async function planDryRun(ctx: CreateContext): Promise<CreateDryRun> {
  const {kube, selector} = ctx.target
  const lines: string[] = []
  if (ctx.input.adopt) {
    ctx.shape = await adoptedShape(ctx, await listRedisPods(kube, selector))
    lines.push(`Would form the pods matching "${selector}" in namespace ${kube.namespace} into a cluster (no manifests applied).`)
  } else {
    await planManifests(ctx)
    const named = (action: AppliedObject['action']): string => ctx.applied.filter((o) => o.action === action).map((o) => `${o.kind}/${o.name}`).join(', ')
    lines.push(named('created') ? `Would create in namespace ${kube.namespace}: ${named('created')}.` : 'Every object exists already; nothing would be applied.')
    if (named('unchanged') && named('created')) lines.push(`Left as they are: ${named('unchanged')}.`)
    const secret = ctx.applied.find((o) => o.kind === 'Secret' && o.name === authConfigSecretName(ctx.input.spec.name))
    if (ctx.input.acl) {
      lines.push(`The Secrets ${ACL_USERS.map((u) => userSecretName(ctx.input.spec.name, u.name)).join(', ')} hold the ACL users' generated passwords, ` +
        'and the auth include their hashes and masterauth, so none is printed.')
    } else if (secret) {
      lines.push(`Secret/${secret.name} holds the password (key auth.conf: requirepass and masterauth lines), so it is never printed; ` +
        `redisctl makes it from --password-secret, or make it yourself: kubectl create secret generic ${secret.name} --from-file=auth.conf=/dev/stdin`)
    }
  }
  const count = podCount(ctx.shape!)
  const pods = (await listRedisPods(kube, selector)).filter((p) => p.ready && p.ip)
  if (pods.length < count) {
    const unscheduled = Array.from({length: count}, (_, i): PodRef => ({pod: `${ctx.input.spec.name}-${i}`, ordinal: i, ip: '', port: REDIS_PORT}))
    const placement = placeShards(unscheduled, ctx.shape!.masters, ctx.shape!.replicasPerMaster)
    const ranges = splitEvenly(ctx.shape!.masters)
    ctx.plan = {kind: 'form', placement, layout: {shards: placement.shards.map((s, i) => ({...s, slots: [ranges[i]]}))}}
    // A teardown that kept the volumes: the pods come back on them, and their nodes.conf decides the layout.
    const kept = ctx.input.adopt ? [] : await listNames(kube, 'PersistentVolumeClaim', selector)
    lines.push(kept.length > 0
      ? `Would form ${shapeWords(ctx.shape!)} once the ${plural(count, 'pod')} are Ready. The volumes ${kept.join(', ')} of an earlier cluster are still there: ` +
        'the pods start on them with their data, and the run brings back the cluster they held, its masters and slots as they were, at the pods\' new IPs.'
      : `Would form ${shapeWords(ctx.shape!)} once the ${plural(count, 'pod')} are Ready: masters ${placement.shards.map((s) => s.master.pod).join(', ')}` +
        ' as placed by ordinal; chosen again once the pods are scheduled, to spread masters and replicas over Kubernetes nodes and zones.')
    return {lines, manifests: ctx.spec ? clusterManifests(ctx.spec) : []}
  }
  ctx.pods = pods.slice(0, count)
  ctx.access = await openRedis(ctx.target, ctx.pods, ctx.input.connect)
  let plan: CreatePlan
  try {
    const stale = (await clusterOver(ctx.target, ctx.access, ctx.pods).observe()).staleAddresses
    if (stale.length > 0) lines.push(`Would introduce the nodes to each other at their pods' current addresses (${plural(stale.length, 'node')} known at old addresses).`)
    plan = await planForming(ctx)
  } finally {
    await ctx.access.close()
  }
  lines.push(plan.kind === 'formed' ? 'The cluster is already formed; nothing would change.' :
    `Would ${plan.kind === 'resume' ? `finish an earlier create (already done: ${plan.done.join(', ')})` : 'form'} ${shapeWords(ctx.shape!)}: ` +
    plan.layout.shards.map((s) => `${s.master.pod} (slots ${formatRanges(s.slots)})${s.replicas.length > 0 ? ` with ${s.replicas.map((r) => r.pod).join(', ')}` : ''}`).join('; ') + '.')
  return {lines, manifests: ctx.spec ? clusterManifests(ctx.spec) : []}
}

/** The create procedure as data: each task re-checks what is already true, so the whole list can run again. */
export function createTasks(): ListrTask<CreateContext>[] {
  return [
    {
      title: 'Apply the ConfigMap, Services, PodDisruptionBudget and StatefulSet',
      enabled: (ctx) => !ctx.input.adopt,
      task: async (ctx, task) => {
        await planManifests(ctx)
        await createObjects(ctx.target.kube, ctx.objects!, ctx.applied)
        const created = ctx.applied.filter((o) => o.action === 'created')
        task.title = created.length === 0 ? 'Every object exists already; nothing applied' : `Created ${created.map((o) => `${o.kind}/${o.name}`).join(', ')}`
      },
    },
    {
      title: 'Read the pods to adopt and the shape they allow',
      enabled: (ctx) => ctx.input.adopt,
      task: async (ctx, task) => {
        const {kube, selector} = ctx.target
        ctx.shape = await adoptedShape(ctx, await listRedisPods(kube, selector))
        task.title = `The pods allow ${shapeWords(ctx.shape)}`
      },
    },
    {
      title: 'Wait for the pods to be Ready',
      task: async (ctx, task) => {
        const {kube, selector} = ctx.target
        const count = podCount(ctx.shape!)
        ctx.pods = (await waitForReadyPods(kube, selector, count, ctx.input.timeoutMs, {onWaiting: progress(task)})).slice(0, count)
        task.title = `${plural(ctx.pods.length, 'pod')} ${agree(ctx.pods.length, 'is', 'are')} Ready`
      },
    },
    {
      title: 'Introduce the nodes to each other at their pods\' current addresses',
      task: async (ctx, task) => {
        ctx.access = await openRedis(ctx.target, ctx.pods, ctx.input.connect)
        // Pods back on volumes kept by a teardown have new IPs, and their nodes.conf names the old ones: the
        // replicas would wait for their masters there for ever. Repair's meeting again is what mends that.
        const repair = newRepairContext(clusterOver(ctx.target, ctx.access, ctx.pods), ctx.input.timeoutMs)
        if ((await observeEveryPodLoaded(repair.cluster, ctx.input.timeoutMs)).staleAddresses.length === 0) return task.skip('no node remembers another at an old address')
        await reintroduce(repair, task)
        ctx.actions.push(...repair.done.map(describeAction))
      },
    },
    {
      title: 'Read the nodes and plan the cluster',
      task: async (ctx, task) => {
        const plan = await planForming(ctx)
        task.title = plan.kind === 'formed' ? 'The cluster is already formed' :
          plan.kind === 'resume' ? `Resuming an earlier create (already done: ${plan.done.join(', ')})` :
            `Planned ${shapeWords(ctx.shape!)}`
      },
    },
    ...CREATE_STEPS.map((step): ListrTask<CreateContext> => ({
      title: step.title,
      skip: (ctx) => (ctx.plan?.kind === 'formed' && !step.evenWhenFormed ? 'already formed' : false),
      task: async (ctx, task) => {
        ctx.actions.push(...await runFormStep(step, task, ctx.access!.connector, ctx.plan!.layout, {
          timeoutMs: ctx.input.timeoutMs,
          // The ConfigMap this create applied; adopted pods run a redis.conf redisctl does not know.
          configuredNodeTimeoutMs: ctx.configuredNodeTimeoutMs,
        }))
      },
    })),
  ]
}

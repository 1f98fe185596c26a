import {createHash} from 'node:crypto'

import type {ListrTask} from 'listr2'

import {PreconditionError, UsageError} from '../errors.js'
import {readSecret, writePasswords, writeSecretData} from '../kube/secrets.js'
import {
  ACL_USERS, ADMIN_SECRET_ANNOTATION, authConf, DEFAULT_USER, generatePassword, PASSWORD_SECRET_ANNOTATION, readPasswords, REPLICATION_USER, userSecretName,
  type ClusterAuth, type UserPasswords,
} from '../manifests/auth.js'
import {authConfigSecretName} from '../manifests/cluster.js'
import type {RedisConnector} from '../redis/connection.js'
import {podAddress, type PodRef} from '../topology/model.js'
import {openCluster, type OpenCluster} from './inspect.js'
import type {KubeTargetSession, TargetOptions} from './session.js'

/**
 * Password rotation without cutting a client off. Redis users hold several passwords, so a new one is added next
 * to the old on every node before any Secret names it; `--finish` removes the old one once clients have moved.
 * The user's Secret records where a rotation stands (next-password while it is being added, previous-password
 * until it is finished), which is what lets a run interrupted anywhere be run again, and lets the include the pods
 * load at a restart accept every password that may be in use.
 */

export interface RotationInput {
  name: string
  /** The ACL user, or `default` on a cluster with one password; undefined: `app`, or `default`. */
  user?: string
  finish: boolean
}

export interface RotationPlan {
  /** The cluster (--name): its Secrets are named after it. */
  name: string
  mode: 'acl' | 'password'
  user: string
  /** The Secret whose password changes (the user's own, or --password-secret's). */
  secret: string
  phase: 'rotate' | 'finish'
  /** Nothing to do: --finish with no rotation under way. */
  nothingToDo: boolean
  /** An earlier rotate was interrupted after its new password was chosen: it is completed with that one. */
  resumed: boolean
  /** The include Secret the pods load; absent for pods redisctl did not deploy. */
  includeSecret?: string
  /** Replicas authenticate as this user: masterauth changes with its password. */
  masterauth: boolean
  pods: string[]
  warnings: string[]
}

export interface RotationContext {
  cluster: OpenCluster
  plan: RotationPlan
  passwords: UserPasswords
}

/**
 * Decides what the rotation does from the cluster's pods and the user's Secret, refusing before anything changes;
 * the same plan serves --dry-run and the run.
 */
export async function prepareRotation(options: TargetOptions, session: KubeTargetSession, input: RotationInput): Promise<RotationContext> {
  const cluster = await openCluster(options, session)
  const {kube} = cluster.target
  const acl = cluster.kubePods.some((p) => p.annotations[ADMIN_SECRET_ANNOTATION])
  const user = input.user ?? (acl ? 'app' : DEFAULT_USER)
  if (acl && !ACL_USERS.some((u) => u.name === user)) {
    throw new UsageError(`--user ${user}: the cluster's ACL users are ${ACL_USERS.map((u) => u.name).join(', ')}.`, ['Name one of them with --user.'])
  }
  if (!acl && user !== DEFAULT_USER) {
    throw new UsageError(`--user ${user}: this cluster has one password (requirepass), the default user's.`, ['Leave --user out, or give --user default.'])
  }
  const remembered = cluster.kubePods.map((p) => p.annotations[PASSWORD_SECRET_ANNOTATION]).find(Boolean)
  const passwordSecret = options.passwordSecret ?? remembered
  if (!acl && !passwordSecret) {
    throw new UsageError('Rotating the password of a cluster without ACL users needs --password-secret: the new password is written to that Secret (the pods name none).', [
      'Put the current password in a Secret (key "password") and name it with --password-secret.',
    ])
  }
  const secret = acl ? userSecretName(input.name, user) : passwordSecret!
  const found = await readSecret(kube, secret)
  const passwords = found && readPasswords(found)
  if (!passwords) throw new PreconditionError(`The Secret "${secret}" holds no password for ${user}.`, [`Check the Secret: kubectl -n ${kube.namespace} get secret ${secret}.`])
  if (input.finish && passwords.next) {
    throw new PreconditionError(`The rotation of ${user}'s password was interrupted before every node had the new one.`, [`Run redisctl auth rotate${input.user ? ` --user ${user}` : ''} again to complete it, then --finish.`])
  }
  if (!input.finish && passwords.previous) {
    throw new PreconditionError(`${user}'s previous password is still accepted: a rotation is waiting for --finish.`, [
      `Once every client uses the Secret's password: redisctl auth rotate${input.user ? ` --user ${user}` : ''} --finish.`,
    ])
  }
  const include = await readSecret(kube, authConfigSecretName(input.name))
  const plan: RotationPlan = {
    name: input.name,
    mode: acl ? 'acl' : 'password',
    user,
    secret,
    phase: input.finish ? 'finish' : 'rotate',
    nothingToDo: input.finish && !passwords.previous,
    resumed: !input.finish && Boolean(passwords.next),
    includeSecret: include ? authConfigSecretName(input.name) : undefined,
    masterauth: acl ? user === REPLICATION_USER.name : true,
    pods: cluster.pods.map((p) => p.pod),
    warnings: [
      ...(include ? [] : [`No Secret ${authConfigSecretName(input.name)} holds the pods' auth include (pods redisctl did not deploy): a pod restarted later loads whatever password its own configuration has.`]),
      ...(!acl && remembered && remembered !== secret ? [`The pods name the Secret ${remembered}, which keeps the old password: commands without --password-secret ${secret} will be refused once the rotation is finished.`] : []),
    ],
  }
  return {cluster, plan, passwords}
}

/** The rotation as data; each step is safe to run again. */
export function rotationTasks(): ListrTask<RotationContext>[] {
  return [
    {
      title: 'Choose the new password and record it in the Secret',
      enabled: (ctx) => ctx.plan.phase === 'rotate',
      skip: (ctx) => (ctx.plan.resumed ? 'an interrupted rotation chose it already' : false),
      task: async (ctx) => {
        ctx.passwords = {password: ctx.passwords.password, next: generatePassword()}
        await writePasswords(ctx.cluster.target.kube, ctx.plan.secret, ctx.passwords)
      },
    },
    {
      title: 'Let the pods\' auth include accept both passwords (a restarted pod keeps them)',
      enabled: (ctx) => ctx.plan.phase === 'rotate' && ctx.plan.includeSecret !== undefined,
      task: (ctx) => writeInclude(ctx),
    },
    {
      title: 'Add the new password on every node',
      enabled: (ctx) => ctx.plan.phase === 'rotate',
      task: async (ctx) => {
        const next = ctx.passwords.next!
        await onEveryNode(ctx, (n) => n.call('ACL', 'SETUSER', ctx.plan.user, `>${next}`))
        await requirePasswords(ctx, [ctx.passwords.password, next])
      },
    },
    {
      title: 'Have replicas authenticate with the new password (masterauth)',
      enabled: (ctx) => ctx.plan.phase === 'rotate' && ctx.plan.masterauth,
      task: (ctx) => onEveryNode(ctx, (n) => n.call('CONFIG', 'SET', 'masterauth', ctx.passwords.next!)),
    },
    {
      title: 'Put the new password in the Secret, the old one kept as previous-password',
      enabled: (ctx) => ctx.plan.phase === 'rotate',
      task: async (ctx) => {
        ctx.passwords = {password: ctx.passwords.next!, previous: ctx.passwords.password}
        await writePasswords(ctx.cluster.target.kube, ctx.plan.secret, ctx.passwords)
      },
    },
    {
      title: 'Remove the previous password from every node',
      enabled: (ctx) => ctx.plan.phase === 'finish',
      skip: (ctx) => (ctx.plan.nothingToDo ? 'no rotation to finish' : false),
      task: async (ctx) => {
        // resetpass and the current password in one command: the user never holds no password, and a password an
        // interrupted rotation added but never published goes too.
        await onEveryNode(ctx, (n) => n.call('ACL', 'SETUSER', ctx.plan.user, 'resetpass', `>${ctx.passwords.password}`))
        await requirePasswords(ctx, [ctx.passwords.password])
      },
    },
    {
      title: 'Drop previous-password from the Secret and the auth include',
      enabled: (ctx) => ctx.plan.phase === 'finish',
      skip: (ctx) => (ctx.plan.nothingToDo ? 'no rotation to finish' : false),
      task: async (ctx) => {
        ctx.passwords = {password: ctx.passwords.password}
        await writePasswords(ctx.cluster.target.kube, ctx.plan.secret, ctx.passwords)
        if (ctx.plan.includeSecret) await writeInclude(ctx)
      },
    },
  ]
}

type NodeCall = {call(...args: string[]): Promise<unknown>}

/** Runs the command on every pod's node at once; any node that fails stops the rotation before a Secret names the result. */
async function onEveryNode(ctx: RotationContext, act: (node: NodeCall) => Promise<unknown>): Promise<void> {
  const {connector} = ctx.cluster.access
  await Promise.all(ctx.cluster.pods.map(async (pod) => act(await nodeClient(connector, pod))))
}

const nodeClient = async (connector: RedisConnector, pod: PodRef): Promise<NodeCall> => {
  const client = await connector.client(podAddress(pod))
  return {call: (...args: string[]) => client.call(args[0], ...args.slice(1))}
}

/** Every node holds exactly these passwords for the user, as ACL GETUSER lists their SHA-256 hashes. */
async function requirePasswords(ctx: RotationContext, passwords: string[]): Promise<void> {
  const wanted = passwords.map((p) => createHash('sha256').update(p).digest('hex')).sort()
  const wrong: string[] = []
  await Promise.all(ctx.cluster.pods.map(async (pod) => {
    const reply = await (await nodeClient(ctx.cluster.access.connector, pod)).call('ACL', 'GETUSER', ctx.plan.user) as unknown[]
    const held = (reply[reply.indexOf('passwords') + 1] as string[]).map(String).sort()
    if (!wanted.every((h) => held.includes(h))) wrong.push(pod.pod)
  }))
  if (wrong.length > 0) throw new PreconditionError(`${wrong.join(', ')} did not take ${ctx.plan.user}'s new password.`, ['Run the same command again.'])
}

/** The include from every user's Secret as it stands, so that it accepts each password some client may hold. */
async function writeInclude(ctx: RotationContext): Promise<void> {
  const {kube} = ctx.cluster.target
  let auth: ClusterAuth
  if (ctx.plan.mode === 'password') {
    auth = {kind: 'password', passwords: ctx.passwords}
  } else {
    const users: Record<string, UserPasswords> = {}
    for (const user of ACL_USERS) {
      const secret = userSecretName(ctx.plan.name, user.name)
      const found = user.name === ctx.plan.user ? ctx.passwords : await readSecret(kube, secret).then((s) => s && readPasswords(s))
      if (!found) throw new PreconditionError(`The Secret ${secret} holds no password for ${user.name}.`, [`Check the Secret: kubectl -n ${kube.namespace} get secret ${secret}.`])
      users[user.name] = found
    }
    auth = {kind: 'acl', users}
  }
  await writeSecretData(kube, ctx.plan.includeSecret!, {'auth.conf': authConf(auth)})
}

import {NotFoundError, type RedisctlError} from '../errors.js'
import {connectKube, type Kube} from '../kube/context.js'
import {PodAddresses} from '../kube/pod-addresses.js'
import {PORT_FORWARD, permissionsFor, type Operation, type Permission} from '../kube/permissions.js'
import {clusterNameOf, DEFAULT_CLUSTER_NAME} from '../kube/ownership.js'
import {listRedisPodsWithoutZones, type RedisPod} from '../kube/pods.js'
import {missingPermissions, permissionRefusal} from '../kube/preflight.js'
import {credentialsOf, PASSWORD_ENV, readSecret, resolveCredentials} from '../kube/secrets.js'
import {ADMIN_SECRET_ANNOTATION, PASSWORD_SECRET_ANNOTATION} from '../manifests/auth.js'
import {TLS_SECRET_ANNOTATION} from '../manifests/cluster.js'
import {clusterSelector} from '../manifests/labels.js'
import {RedisConnector, type NodeAddress} from '../redis/connection.js'
import type {Credentials} from '../redis/credentials.js'
import {tcpOpen} from '../redis/probe.js'
import {readCaFile, readTlsSecret, type ConnectorTls, type TlsMaterial} from '../tls/client.js'
import {redisCommandTimeoutMs} from '../util/call-bounds.js'

export type ConnectMode = 'auto' | 'direct' | 'port-forward'

/** The flags every cluster command shares (src/cli/flags.ts), as the workflows need them. */
export interface TargetOptions {
  kubeconfig?: string
  context?: string
  namespace?: string
  selector?: string
  /** --name; left out, the cluster is named by its pods (see clusterNameOf). */
  name?: string
  connect: ConnectMode
  passwordSecret?: string
  /** The command's stop signal (src/cli/base-command.ts): waits end at once, moves after their batches in flight. */
  signal?: AbortSignal
  /** How long any one answer may take, a Kubernetes request or a Redis command (status and check: --timeout). */
  answerTimeoutMs?: number
  /** TLS pods redisctl did not make: the CA (and client certificate) to verify them with (src/cli/flags.ts). */
  'tls-ca-secret'?: string
  'tls-ca-file'?: string
  /** cluster create --tls / --tls-secret: the TLS Secret will be written or read. */
  tls?: boolean
}

export interface KubeTargetSession {
  kube: Kube
  selector: string
  /** The cluster's StatefulSet, resolved once (kube/ownership.ts clusterNameOf); undefined for pods no StatefulSet owns. */
  name?: string
  credentials?: Credentials
  /** --password-secret was given: it wins over the admin Secret an ACL cluster's pods name. */
  credentialsGiven?: boolean
  answerTimeoutMs?: number
  /** From --tls-ca-secret / --tls-ca-file; otherwise openRedis finds a TLS cluster by its pods' annotation. */
  tls?: TlsMaterial
  /** With --connect auto: the port-forward permissions this identity lacks, which matter only if auto has to forward. */
  forwardingDenied?: Permission[]
}

/** What a command that changes things is about to do, for the permission check before it starts. */
export interface PlannedAccess {
  operation: Operation
  deletePvcs?: boolean
  /** create --acl: the users' Secrets are read and written. */
  acl?: boolean
}

/**
 * Connects to Kubernetes and reads the password, changing nothing. Given what the command will do, it first checks
 * every permission that needs (see checkPermissions). Nothing cluster-scoped is read: a namespace that does not exist
 * is told from the namespaced calls' answers.
 */
export async function openTarget(options: TargetOptions, planned?: PlannedAccess): Promise<KubeTargetSession> {
  const kube = connectKube({...options, requestTimeoutMs: options.answerTimeoutMs})
  // Without -l/--selector the name gives the selector; with it, the selected pods give the name.
  const givenName = options.name ?? DEFAULT_CLUSTER_NAME
  const selector = options.selector ?? clusterSelector(givenName)
  const forwardingDenied = planned ? await checkPermissions(kube, selector, options, planned) : undefined
  const name = options.selector === undefined ? givenName : clusterNameOf(options.name, selector, await listRedisPodsWithoutZones(kube, selector))
  const credentials = await resolveCredentials(kube, options.passwordSecret)
  const caSecret = options['tls-ca-secret']
  const caFile = options['tls-ca-file']
  const tls = caSecret ? await readTlsSecret(kube, caSecret) : caFile ? await readCaFile(caFile) : undefined
  return {kube, selector, name, credentials, credentialsGiven: Boolean(options.passwordSecret), answerTimeoutMs: options.answerTimeoutMs, tls, forwardingDenied}
}

/**
 * How to talk TLS to these pods, if they serve it: what the command line gave, else the Secret their annotation
 * names (a cluster redisctl made with --tls remembers it there, so later commands need no flag).
 */
export async function podsTls(target: KubeTargetSession, pods: RedisPod[]): Promise<PodsTls | undefined> {
  const secret = pods.map((p) => p.annotations[TLS_SECRET_ANNOTATION]).find(Boolean)
  const material = target.tls ?? (secret ? await readTlsSecret(target.kube, secret) : undefined)
  if (!material) return undefined
  const addresses = new PodAddresses(pods)
  return {...material, addresses, serverName: (addr) => addresses.nameAt(addr.host)}
}

/** TLS to pods: each verified by its pod's DNS name, looked up by the pod's IP in `addresses`, which later listings update. */
export interface PodsTls extends ConnectorTls {
  addresses: PodAddresses
}

/**
 * Refuses (ForbiddenError, nothing changed) when the identity lacks any permission of the plan, all named at once.
 * With --connect auto, the port-forward permissions count only when forwarding will be chosen: when the pods exist
 * and their IPs do not answer from here. When that cannot be told yet (a create before its pods), the missing ones
 * are returned, and openRedis refuses if it comes to forwarding.
 */
export async function checkPermissions(kube: Kube, selector: string, options: TargetOptions, planned: PlannedAccess): Promise<Permission[] | undefined> {
  const needs = permissionsFor(planned.operation, {
    portForward: options.connect === 'port-forward',
    password: Boolean(options.passwordSecret || process.env[PASSWORD_ENV] || planned.acl),
    passwordSecret: Boolean(options.passwordSecret),
    deletePvcs: planned.deletePvcs ?? false,
    tls: Boolean(options.tls || options['tls-ca-secret']),
  })
  const mayForward = options.connect === 'auto' && planned.operation !== 'teardown'
  const missing = await missingPermissions(kube, mayForward ? [...needs, ...PORT_FORWARD] : needs)
  if (!missing?.length) return undefined
  const forwarding = mayForward ? missing.filter((p) => PORT_FORWARD.includes(p)) : []
  const required = missing.filter((p) => !forwarding.includes(p))
  const canListPods = !required.some((p) => p.resource === 'pods' && !p.subresource)
  const forwards = forwarding.length > 0 && canListPods ? await forwardingNeeded(kube, selector) : undefined
  if (forwards) required.push(...forwarding)
  if (required.length > 0) throw await permissionRefusal(kube, required, forwards ? ' (the pod IPs do not answer from here, so --connect auto would port-forward)' : '')
  return forwards === undefined && forwarding.length > 0 ? forwarding : undefined
}

/** Whether --connect auto will forward: the pods' IPs do not answer from here. Undefined while no pod has an IP. */
async function forwardingNeeded(kube: Kube, selector: string): Promise<boolean | undefined> {
  const withIp = (await listRedisPodsWithoutZones(kube, selector)).filter((p) => p.ip)
  return withIp.length > 0 ? !(await answersDirectly(withIp)) : undefined
}

/** `--connect auto` goes direct when the first pod with an IP accepts a connection (or no pod has one yet). */
async function answersDirectly(pods: ReadonlyArray<{ip?: string; port: number}>): Promise<boolean> {
  const first = pods.find((p) => p.ip)
  return !first || tcpOpen(first.ip!, first.port, 500)
}

export interface RedisAccess {
  connector: RedisConnector
  mode: 'direct' | 'port-forward'
  /** How the nodes are verified, when they serve TLS. */
  tls?: PodsTls
  /** Where the pod at this address is reached from here: there, or the local end of its port-forward (undefined while none leads there). */
  reach(addr: NodeAddress): NodeAddress | undefined
  /**
   * Takes a newer listing of the pods, from which a pod recreated at a new IP is reached and verified (its TLS name,
   * its port-forward), and a new pod gets a forward. True when an address changed.
   */
  learn(pods: readonly RedisPod[]): Promise<boolean>
  /** Port-forwarding only: the API server's refusal of a forward, which is why the nodes behind it were unreachable. */
  refusal?(): RedisctlError | undefined
  close(): Promise<void>
}

/**
 * Opens Redis access to the pods: straight to their IPs, or through port-forwards when the pod network is out
 * of reach (auto decides by trying one pod IP).
 */
export async function openRedis(target: KubeTargetSession, pods: RedisPod[], mode: ConnectMode): Promise<RedisAccess> {
  const reachable = pods.filter((p) => p.ip)
  const tls = await podsTls(target, pods)
  const credentials = await clusterCredentials(target, pods)
  const direct = mode === 'direct' || (mode === 'auto' && (await answersDirectly(reachable)))
  const connection = {credentials, signal: target.kube.signal, commandTimeoutMs: target.answerTimeoutMs ?? redisCommandTimeoutMs(pods.length)}
  if (direct) {
    const connector = new RedisConnector({...connection, tls})
    return {connector, mode: 'direct', tls, reach: (addr) => addr, learn: async (listed) => tls?.addresses.learn(listed) ?? false, close: () => connector.closeAll()}
  }
  if (mode === 'auto' && target.forwardingDenied) {
    throw await permissionRefusal(target.kube, target.forwardingDenied, ' (the pod IPs do not answer from here, so --connect auto would port-forward)')
  }
  const {openPortForwards} = await import('../kube/port-forward.js')
  const forwards = await openPortForwards(target.kube, reachable)
  const connector = new RedisConnector({...connection, route: forwards.route, tls})
  return {
    connector,
    mode: 'port-forward',
    tls,
    reach: forwards.forwardTo,
    async learn(listed) {
      const renamed = tls?.addresses.learn(listed) ?? false
      return (await forwards.learn(listed)) || renamed
    },
    refusal: forwards.refusal,
    async close() {
      await connector.closeAll()
      await forwards.close()
    },
  }
}

/**
 * A cluster redisctl made names on its pods the Secret it authenticates with: an ACL cluster its admin user's
 * (cluster create --acl), a cluster with one password the --password-secret it was made with. So no flag is needed;
 * an explicit --password-secret still wins, and on a cluster with one password so does REDISCTL_PASSWORD (an ACL
 * cluster's default user, whose password that is, is off). Read once per session.
 */
async function clusterCredentials(target: KubeTargetSession, pods: readonly RedisPod[]): Promise<Credentials | undefined> {
  const secretName = target.credentialsGiven ? undefined : rememberedSecret(target.credentials, pods)
  if (!secretName) return target.credentials
  target.credentials = await rememberedCredentials(target.kube, secretName)
  return target.credentials
}

/** The Secret the pods name, unless the credentials at hand already are what it holds (or what wins over it). */
function rememberedSecret(credentials: Credentials | undefined, pods: readonly RedisPod[]): string | undefined {
  const named = (annotation: string): string | undefined => pods.map((p) => p.annotations[annotation]).find(Boolean)
  const admin = named(ADMIN_SECRET_ANNOTATION)
  if (admin) return credentials?.username ? undefined : admin
  return credentials ? undefined : named(PASSWORD_SECRET_ANNOTATION)
}

/** The credentials of the Secret a cluster's pods (or its StatefulSet's template) name. */
export async function rememberedCredentials(kube: Kube, secretName: string): Promise<Credentials> {
  const secret = await readSecret(kube, secretName)
  if (!secret) {
    throw new NotFoundError(`The pods name the Secret "${secretName}" as the one redisctl authenticates with, and it does not exist in namespace ${kube.namespace}.`, [
      'Give the password with --password-secret (a Secret with the key "password", and "username" for an ACL user).',
    ])
  }
  return credentialsOf(secret, secretName, kube.namespace, `the Secret "${secretName}" the pods name`)
}

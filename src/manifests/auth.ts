import type {V1Secret} from '@kubernetes/client-node'
import {createHash, randomBytes} from 'node:crypto'

import {clusterSecret, secretValue} from './secret.js'

/**
 * How the pods authenticate clients and each other: one shared password (requirepass, the `default` user), or ACL
 * users, each with its password in a Secret of its own. Either way the pods read it from the Secret-mounted include
 * (authConf), so a restarted pod keeps it.
 */

/** On the pod template of an ACL cluster: the Secret holding redisctl's own user, so later commands need no flag. */
export const ADMIN_SECRET_ANNOTATION = 'redisctl.io/admin-secret'
/**
 * On the pod template of a cluster with one password made with --password-secret: that Secret, so later commands
 * need no flag. Not ADMIN_SECRET_ANNOTATION: that one is what tells an ACL cluster (create's comparison, auth rotate).
 */
export const PASSWORD_SECRET_ANNOTATION = 'redisctl.io/password-secret'

export interface AclUser {
  name: string
  /** ACL rules after `on` and the passwords. */
  rules: string
  purpose: string
}

export const ADMIN_USER: AclUser = {name: 'redisctl-admin', rules: '~* &* +@all', purpose: 'redisctl itself'}
/** What a replica runs on its master (Redis's own ACL guide); the cluster bus does not authenticate. */
export const REPLICATION_USER: AclUser = {name: 'replication', rules: '+psync +replconf +ping', purpose: 'replicas, syncing from their master (masteruser)'}
/**
 * Everything but @admin and @dangerous (CONFIG, FLUSHALL, KEYS, CLUSTER FORGET, DEBUG, MIGRATE...), plus what cluster
 * clients ask to find and follow the slots: in Redis 7.0 these are in neither category, listed so that they stay
 * allowed where a version files them there.
 */
export const APP_USER: AclUser = {
  name: 'app',
  rules: '~* &* +@all -@admin -@dangerous +cluster|slots +cluster|shards +cluster|nodes +cluster|info +cluster|keyslot +cluster|myid +readonly +readwrite +asking',
  purpose: 'applications',
}
export const ACL_USERS: readonly AclUser[] = [ADMIN_USER, REPLICATION_USER, APP_USER]

/** The user whose passwords a plain cluster rotates: requirepass is the default user's password. */
export const DEFAULT_USER = 'default'

export const userSecretName = (cluster: string, user: string): string => `${cluster}-user-${user}`

/**
 * A user's passwords as its Secret holds them. `password` is the one to use; while a rotation runs the Secret also
 * holds `next-password` (being added to the nodes) and then `previous-password` (still accepted until --finish).
 */
export interface UserPasswords {
  password: string
  previous?: string
  next?: string
}

export const SECRET_KEYS = {username: 'username', password: 'password', previous: 'previous-password', next: 'next-password'} as const

/** Every password the nodes accept for the user. */
export const acceptedPasswords = (p: UserPasswords): string[] => [p.previous, p.password, p.next].filter((x): x is string => Boolean(x))
/** The one a replica presents (masterauth): the newest, since every node accepts it before any Secret names it. */
export const newestPassword = (p: UserPasswords): string => p.next ?? p.password

export type ClusterAuth =
  | {kind: 'password'; passwords: UserPasswords}
  | {kind: 'acl'; users: Readonly<Record<string, UserPasswords>>}

/** A random password: 32 characters of base64url, nothing to quote. */
export const generatePassword = (): string => randomBytes(24).toString('base64url')

/** The include's text. ACL users carry SHA-256 hashes; only masterauth (and a lone requirepass) must be the password itself. */
export function authConf(auth: ClusterAuth): string {
  if (auth.kind === 'password') {
    const accepted = acceptedPasswords(auth.passwords)
    // requirepass holds one password; while rotating, the default user holds both, as ACL SETUSER left it.
    const clients = accepted.length === 1 ? `requirepass ${quoteConf(accepted[0])}` : `user ${DEFAULT_USER} on ${hashes(accepted)} ~* &* +@all`
    return `${clients}\nmasterauth ${quoteConf(newestPassword(auth.passwords))}\n`
  }
  const lines = [`user ${DEFAULT_USER} off`]
  for (const user of ACL_USERS) {
    const passwords = auth.users[user.name]
    if (!passwords) throw new Error(`no passwords for the ACL user ${user.name}`)
    lines.push(`user ${user.name} on ${hashes(acceptedPasswords(passwords))} ${user.rules}`)
  }
  lines.push(`masteruser ${REPLICATION_USER.name}`, `masterauth ${quoteConf(newestPassword(auth.users[REPLICATION_USER.name]))}`)
  return lines.join('\n') + '\n'
}

const hashes = (passwords: string[]): string => passwords.map((p) => `#${createHash('sha256').update(p).digest('hex')}`).join(' ')

export const quoteConf = (value: string): string => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`

/** The Secret of one ACL user: what an application mounts or reads (keys username and password). */
export function userSecret(cluster: string, namespace: string, user: string, passwords: UserPasswords): V1Secret {
  const data: Record<string, string> = {[SECRET_KEYS.username]: user, [SECRET_KEYS.password]: passwords.password}
  if (passwords.previous) data[SECRET_KEYS.previous] = passwords.previous
  if (passwords.next) data[SECRET_KEYS.next] = passwords.next
  return clusterSecret(cluster, namespace, userSecretName(cluster, user), 'Opaque', data)
}

/** A Secret's passwords, from its data (or stringData, as written by hand); undefined without a password. */
export function readPasswords(secret: V1Secret): UserPasswords | undefined {
  const password = secretValue(secret, SECRET_KEYS.password)
  if (!password) return undefined
  return {password, previous: secretValue(secret, SECRET_KEYS.previous) || undefined, next: secretValue(secret, SECRET_KEYS.next) || undefined}
}


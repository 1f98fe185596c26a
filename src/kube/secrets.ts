import type {V1Secret} from '@kubernetes/client-node'
import {PatchStrategy, setHeaderOptions} from '@kubernetes/client-node'

import {NotFoundError, UsageError} from '../errors.js'
import {readPasswords, SECRET_KEYS, type UserPasswords} from '../manifests/auth.js'
import {secretValue} from '../manifests/secret.js'
import type {Credentials} from '../redis/credentials.js'
import {PASSWORD_ENV} from '../util/child-env.js'
import {notFoundIn, type Kube} from './context.js'

export {PASSWORD_ENV} from '../util/child-env.js'

/**
 * How redisctl authenticates: the Secret named by --password-secret (key "password", and "username" for an ACL
 * user), else REDISCTL_PASSWORD (the default user), else none. Only ever handed to Redis clients: never printed,
 * logged, put in JSON or in a child process's arguments or environment (util/child-env.ts).
 */
export async function resolveCredentials(kube: Kube, secretName: string | undefined): Promise<Credentials | undefined> {
  if (!secretName) {
    const password = process.env[PASSWORD_ENV]
    return password ? {password, source: PASSWORD_ENV} : undefined
  }
  const secret = await readSecret(kube, secretName)
  if (!secret) {
    throw await notFoundIn(kube, new NotFoundError(`The Secret "${secretName}" does not exist in namespace ${kube.namespace}.`, [
      `Create it: kubectl -n ${kube.namespace} create secret generic ${secretName} --from-file=password=/dev/stdin, then type the password and press Ctrl-D twice (a final Enter would be part of it), or pipe it in; never put it on the command line.`,
    ]))
  }
  return credentialsOf(secret, secretName, kube.namespace, `the Secret "${secretName}" (--password-secret)`)
}

/** A Secret's credentials: its key "password", as its key "username" when it names one. */
export function credentialsOf(secret: V1Secret, secretName: string, namespace: string, source: string): Credentials {
  const passwords = readPasswords(secret)
  if (!passwords) {
    throw new UsageError(`The Secret "${secretName}" has no key "password".`, [
      `Put the Redis password under the key "password": kubectl -n ${namespace} create secret generic ${secretName} --from-file=password=/dev/stdin --dry-run=client -o yaml | kubectl apply -f -, the password typed (ended by Ctrl-D twice) or piped in, never on the command line.`,
    ])
  }
  const username = secretValue(secret, SECRET_KEYS.username)
  return {...(username ? {username} : {}), password: passwords.password, source}
}

export const readSecret = (kube: Kube, name: string): Promise<V1Secret | undefined> =>
  kube.find(`reading Secret ${name}`, () => kube.core.readNamespacedSecret({name, namespace: kube.namespace}))

/** Sets a user Secret's password keys as given; a key left out (previous-password, next-password) is removed. */
export const writePasswords = (kube: Kube, name: string, passwords: UserPasswords): Promise<void> =>
  writeSecretData(kube, name, {[SECRET_KEYS.password]: passwords.password, [SECRET_KEYS.previous]: passwords.previous, [SECRET_KEYS.next]: passwords.next})

/** Sets keys of an existing Secret; an undefined value removes its key, keys not named stay as they are. */
export async function writeSecretData(kube: Kube, name: string, data: Record<string, string | undefined>): Promise<void> {
  const body = {data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v === undefined ? null : Buffer.from(v).toString('base64')]))}
  await kube.call(`updating Secret ${name}`, () => kube.core.patchNamespacedSecret({name, namespace: kube.namespace, body}, MERGE_PATCH))
}

// JSON merge patch: a null removes the key.
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

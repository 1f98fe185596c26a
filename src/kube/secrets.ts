import {NotFoundError, UsageError} from '../errors.js'
import {notFoundIn, type Kube} from './context.js'

export const PASSWORD_ENV = 'REDISCTL_PASSWORD'

/**
 * The Redis password: from the Secret named by --password-secret (key "password"), else REDISCTL_PASSWORD, else none.
 * It is only ever handed to Redis clients: never printed, logged, put in JSON or in a child process's arguments.
 */
export async function resolvePassword(kube: Kube, secretName: string | undefined): Promise<string | undefined> {
  if (!secretName) return process.env[PASSWORD_ENV] || undefined
  const secret = await kube.find(`reading Secret ${secretName}`, () => kube.core.readNamespacedSecret({name: secretName, namespace: kube.namespace}))
  if (!secret) {
    throw await notFoundIn(kube, new NotFoundError(`The Secret "${secretName}" does not exist in namespace ${kube.namespace}.`, [
      `Create it: kubectl -n ${kube.namespace} create secret generic ${secretName} --from-file=password=/dev/stdin, then type the password and press Ctrl-D twice (a final Enter would be part of it), or pipe it in; never put it on the command line.`,
    ]))
  }
  const encoded = secret.data?.password
  const plain = secret.stringData?.password
  if (!encoded && !plain) {
    throw new UsageError(`The Secret "${secretName}" has no key "password".`, [
      `Put the Redis password under the key "password": kubectl -n ${kube.namespace} create secret generic ${secretName} --from-file=password=/dev/stdin --dry-run=client -o yaml | kubectl apply -f -, the password typed (ended by Ctrl-D twice) or piped in, never on the command line.`,
    ])
  }
  return plain ?? Buffer.from(encoded!, 'base64').toString('utf8')
}

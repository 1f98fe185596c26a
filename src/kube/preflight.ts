import {AuthenticationV1Api, AuthorizationV1Api} from '@kubernetes/client-node'

import {ForbiddenError} from '../errors.js'
import {canIHint, httpStatus, kubeError, rbacHint} from './api-errors.js'
import type {Kube} from './context.js'
import {describePermission, type Permission} from './permissions.js'

const UNCHECKED = 'permissions-unchecked'

/**
 * Which of the permissions this identity lacks in the namespace, asking the API server about all of them at once
 * (SelfSubjectAccessReview, what `kubectl auth can-i` asks). Undefined when the server will not answer such
 * questions (every authenticated user may, unless an admin removed system:basic-user): the command then goes on,
 * warned, and its first refused call stops it.
 */
export async function missingPermissions(kube: Kube, needs: readonly Permission[]): Promise<Permission[] | undefined> {
  const api = kube.api(AuthorizationV1Api)
  const ask = async (p: Permission): Promise<boolean> => (await api.createSelfSubjectAccessReview({body: {spec: {resourceAttributes: {
    namespace: kube.namespace, verb: p.verb, group: p.group, resource: p.resource, subresource: p.subresource,
  }}}})).status?.allowed === true
  try {
    const allowed = await Promise.all(needs.map(ask))
    return needs.filter((_, i) => !allowed[i])
  } catch (error) {
    const code = httpStatus(error)
    if (code !== 403 && code !== 404) throw kubeError(error, `checking the permissions this command needs in namespace ${kube.namespace}`, kube.server)
    kube.warnings.add(UNCHECKED, `The Kubernetes API would not say which permissions this identity has (SelfSubjectAccessReview: HTTP ${code}); the command went ahead unchecked.`)
    return undefined
  }
}

/** Who the API server takes the kubeconfig's credentials for (SelfSubjectReview, `kubectl auth whoami`); undefined if it will not say. */
async function whoAmI(kube: Kube): Promise<string | undefined> {
  try {
    return (await kube.api(AuthenticationV1Api).createSelfSubjectReview({body: {}})).status?.userInfo?.username
  } catch {
    return undefined
  }
}

/** The refusal naming every missing permission, and whose they are; `why` says when they became needed. */
export async function permissionRefusal(kube: Kube, missing: readonly Permission[], why = ''): Promise<ForbiddenError> {
  const who = (await whoAmI(kube)) ?? 'This identity'
  return new ForbiddenError(`The Kubernetes API would refuse ${missing.length === 1 ? 'a call' : `${missing.length} calls`} this command needs${why}, so nothing was changed: ` +
    `${who} may not ${missing.map(describePermission).join(', ')} in namespace ${kube.namespace}.`, [
    `Grant them: ${rbacHint(kube.namespace)}`,
    `Check with: ${canIHint(missing[0], kube.namespace)} (kubectl auth can-i --list -n ${kube.namespace} lists every permission).`,
  ])
}

/**
 * Refuses, changing nothing, when the identity lacks any permission the plan will use, naming all of them: so that
 * no command stops halfway for want of one (a scale in that moved every slot, then may not delete a PVC).
 */
export async function requirePermissions(kube: Kube, needs: readonly Permission[]): Promise<void> {
  const missing = await missingPermissions(kube, needs)
  if (missing?.length) throw await permissionRefusal(kube, missing)
}

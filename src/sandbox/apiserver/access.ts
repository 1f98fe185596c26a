import type {IncomingMessage} from 'node:http'

import {Authenticator, type StaticToken} from './authn.js'
import {bootstrapClusterRoleBindings, bootstrapClusterRoles} from './bootstrap-policy.js'
import type {KObject} from './object.js'
import {authorize, rulesFor, type Binding, type Decision, type PolicyRule, type PolicySource, type RulesReview, type UserInfo} from './rbac.js'
import type {Registry} from './registry.js'
import {requestAttributes, type RequestAttributes} from './request-info.js'
import {CLUSTERROLEBINDINGS, CLUSTERROLES, ROLEBINDINGS, ROLES, type ResourceType} from './resources.js'
import {forbiddenRequest, unauthorized} from './status.js'
import type {Store} from './store.js'

const RBAC_KINDS = new Set<ResourceType>([ROLES, ROLEBINDINGS, CLUSTERROLES, CLUSTERROLEBINDINGS])

const impersonation = (resource: string, name: string, namespace: string): RequestAttributes =>
  ({verb: 'impersonate', path: '', isResourceRequest: true, apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace, name})

/** The RBAC objects as the authorizer reads them, re-read from the store only after one of them changed. */
class StoredPolicy implements PolicySource {
  private snapshot?: {clusterRoleBindings: Binding[]; roleBindings: Binding[]; roles: KObject[]; clusterRoles: KObject[]}

  constructor(private readonly store: Store) {
    store.subscribe((event) => {
      if (RBAC_KINDS.has(event.resource)) this.snapshot = undefined
    })
  }

  clusterRoleBindings(): Binding[] {
    return this.current().clusterRoleBindings
  }

  roleBindings(namespace: string): Binding[] {
    return this.current().roleBindings.filter((b) => b.metadata.namespace === namespace)
  }

  rulesOf(ref: Binding['roleRef'], namespace: string | undefined): PolicyRule[] | undefined {
    const {roles, clusterRoles} = this.current()
    const role = ref.kind === 'ClusterRole' ? clusterRoles.find((r) => r.metadata.name === ref.name)
      : ref.kind === 'Role' ? roles.find((r) => r.metadata.name === ref.name && r.metadata.namespace === namespace) : undefined
    return role && ((role.rules as PolicyRule[] | undefined) ?? [])
  }

  private current(): NonNullable<StoredPolicy['snapshot']> {
    this.snapshot ??= {
      clusterRoleBindings: this.store.list(CLUSTERROLEBINDINGS) as unknown as Binding[],
      roleBindings: this.store.list(ROLEBINDINGS) as unknown as Binding[],
      roles: this.store.list(ROLES),
      clusterRoles: this.store.list(CLUSTERROLES),
    }
    return this.snapshot
  }
}

/**
 * Who is asking and whether they may: every request, upgrades included, passes here before it is routed, as in
 * kube-apiserver's filter chain (authentication, then authorization, then the handler).
 */
export class Access {
  readonly authenticator: Authenticator
  private readonly policy: StoredPolicy

  constructor(registry: Registry, tokens: StaticToken[]) {
    this.authenticator = new Authenticator(registry.store, tokens)
    this.policy = new StoredPolicy(registry.store)
    for (const role of bootstrapClusterRoles()) registry.create(CLUSTERROLES, undefined, role)
    for (const binding of bootstrapClusterRoleBindings()) registry.create(CLUSTERROLEBINDINGS, undefined, binding)
  }

  /** The request's user when it may go on; a 401 or 403 ApiError otherwise. */
  admit(req: IncomingMessage, url: URL): UserInfo {
    const authenticated = this.authenticator.authenticateRequest(req)
    if (!authenticated) throw unauthorized()
    const user = this.impersonated(authenticated, req)
    const attrs = requestAttributes(req.method ?? 'GET', url)
    const decision = this.decide(user, attrs)
    if (!decision.allowed) throw forbiddenRequest(attrs, user.name, decision.reason)
    return user
  }

  /**
   * `kubectl --as`: the Impersonate-User and Impersonate-Group headers make the request another user's, if the caller
   * may `impersonate` that user (or ServiceAccount) and each group.
   */
  private impersonated(user: UserInfo, req: IncomingMessage): UserInfo {
    const name = req.headers['impersonate-user']
    if (typeof name !== 'string') return user
    const groupHeader = req.headers['impersonate-group']
    const groups = groupHeader === undefined ? [] : [groupHeader].flat().flatMap((g) => g.split(',')).map((g) => g.trim())
    const account = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name)
    const targets: RequestAttributes[] = [
      impersonation(account ? 'serviceaccounts' : 'users', account ? account[2] : name, account?.[1] ?? ''),
      ...groups.map((g) => impersonation('groups', g, '')),
    ]
    for (const attrs of targets) {
      const decision = this.decide(user, attrs)
      if (!decision.allowed) throw forbiddenRequest(attrs, user.name, decision.reason)
    }
    const implied = account ? ['system:serviceaccounts', `system:serviceaccounts:${account[1]}`] : []
    return {name, groups: [...new Set([...implied, ...groups, 'system:authenticated'])]}
  }

  decide(user: UserInfo, attrs: RequestAttributes): Decision {
    return authorize(this.policy, user, attrs)
  }

  rules(user: UserInfo, namespace: string): RulesReview {
    return rulesFor(this.policy, user, namespace)
  }
}

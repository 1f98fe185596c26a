import type {RequestAttributes} from './request-info.js'

/**
 * RBAC as kube-apiserver evaluates it (plugin/pkg/auth/authorizer/rbac and pkg/apis/rbac/v1/evaluation_helpers.go):
 * ClusterRoleBindings first, then the RoleBindings of the request's namespace; the first rule that allows wins,
 * nothing ever denies. Pure: the policy objects come from a PolicySource.
 */

export interface PolicyRule {
  verbs: string[]
  apiGroups?: string[]
  resources?: string[]
  resourceNames?: string[]
  nonResourceURLs?: string[]
}

export interface Subject {
  kind: string
  name: string
  namespace?: string
  apiGroup?: string
}

export interface RoleRef {
  apiGroup: string
  kind: string
  name: string
}

export interface Binding {
  metadata: {name?: string; namespace?: string}
  subjects?: Subject[]
  roleRef: RoleRef
}

export interface UserInfo {
  name: string
  uid?: string
  groups: string[]
}

export interface PolicySource {
  clusterRoleBindings(): Binding[]
  roleBindings(namespace: string): Binding[]
  /** The rules of the Role (in `namespace`) or ClusterRole a binding refers to; undefined when it does not exist. */
  rulesOf(ref: RoleRef, namespace: string | undefined): PolicyRule[] | undefined
}

export interface Decision {
  allowed: boolean
  /** `RBAC: allowed by ...` when allowed; the bindings whose role is missing when not; empty otherwise. */
  reason: string
}

/** Its members are allowed everything before RBAC is asked (the privileged-group authorizer). */
export const SYSTEM_MASTERS = 'system:masters'

const matches = (values: readonly string[] | undefined, wanted: string, all = '*'): boolean =>
  (values ?? []).some((v) => v === all || v === wanted)

/** `*`, the exact `resource/subresource`, or `*\/subresource` for any resource with that subresource. */
export function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource
  return (rule.resources ?? []).some((r) => r === '*' || r === combined || (subresource !== '' && r === `*/${subresource}`))
}

/** An exact path, `*`, or a prefix ending in `*` (`/apis/*`). */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))))
}

export function ruleAllows(a: RequestAttributes, rule: PolicyRule): boolean {
  if (!matches(rule.verbs, a.verb)) return false
  if (!a.isResourceRequest) return nonResourceURLMatches(rule, a.path)
  return matches(rule.apiGroups, a.apiGroup) && resourceMatches(rule, a.resource, a.subresource) &&
    (!rule.resourceNames?.length || rule.resourceNames.includes(a.name))
}

export const serviceAccountUser = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`

/** A ServiceAccount subject without a namespace means the binding's own. */
export function appliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User': return user.name === subject.name
    case 'Group': return user.groups.includes(subject.name)
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace
      return namespace !== '' && user.name === serviceAccountUser(namespace, subject.name)
    }
    default: return false
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  return s.kind === 'ServiceAccount' ? `${s.kind} "${s.name}/${s.namespace || bindingNamespace}"` : `${s.kind} "${s.name}"`
}

interface VisitedRule {
  source: string
  rule: PolicyRule
}

/** Every rule bound to the user for a request in `namespace`, in the order RBAC visits them; missing roles go to `errors`. */
function rulesBoundTo(policy: PolicySource, user: UserInfo, namespace: string, errors: string[]): VisitedRule[] {
  const visited: VisitedRule[] = []
  const visit = (binding: Binding, bindingNamespace: string, describe: (subject: Subject) => string): void => {
    const subject = (binding.subjects ?? []).find((s) => appliesTo(user, s, bindingNamespace))
    if (!subject) return
    const rules = policy.rulesOf(binding.roleRef, bindingNamespace || undefined)
    if (!rules) {
      errors.push(`${binding.roleRef.kind.toLowerCase()}.rbac.authorization.k8s.io "${binding.roleRef.name}" not found`)
      return
    }
    for (const rule of rules) visited.push({source: describe(subject), rule})
  }
  for (const b of policy.clusterRoleBindings()) {
    visit(b, '', (s) => `ClusterRoleBinding "${b.metadata.name}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(s, '')}`)
  }
  if (namespace) {
    for (const b of policy.roleBindings(namespace)) {
      visit(b, namespace, (s) => `RoleBinding "${b.metadata.name}/${namespace}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(s, namespace)}`)
    }
  }
  return visited
}

const aggregate = (errors: string[]): string => (errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`)

export function authorize(policy: PolicySource, user: UserInfo, a: RequestAttributes): Decision {
  if (user.groups.includes(SYSTEM_MASTERS)) return {allowed: true, reason: ''}
  const errors: string[] = []
  const allowing = rulesBoundTo(policy, user, a.namespace, errors).find(({rule}) => ruleAllows(a, rule))
  if (allowing) return {allowed: true, reason: `RBAC: allowed by ${allowing.source}`}
  return {allowed: false, reason: errors.length > 0 ? `RBAC: ${aggregate(errors)}` : ''}
}

export interface RulesReview {
  resourceRules: PolicyRule[]
  nonResourceRules: PolicyRule[]
  incomplete: boolean
  evaluationError?: string
}

/** What SelfSubjectRulesReview answers: every rule bound to the user in a namespace, split by kind. */
export function rulesFor(policy: PolicySource, user: UserInfo, namespace: string): RulesReview {
  const errors: string[] = []
  const rules = user.groups.includes(SYSTEM_MASTERS)
    ? [{verbs: ['*'], apiGroups: ['*'], resources: ['*']}, {verbs: ['*'], nonResourceURLs: ['*']}]
    : rulesBoundTo(policy, user, namespace, errors).map((v) => v.rule)
  return {
    resourceRules: rules.filter((r) => !r.nonResourceURLs?.length).map((r) => ({verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? {resourceNames: r.resourceNames} : {})})),
    nonResourceRules: rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({verbs: r.verbs, nonResourceURLs: r.nonResourceURLs})),
    incomplete: errors.length > 0,
    ...(errors.length > 0 ? {evaluationError: aggregate(errors)} : {}),
  }
}

import type {IncomingMessage, ServerResponse} from 'node:http'

import type {Access} from './access.js'
import {API_AUDIENCE} from './authn.js'
import {readBody, readBytes, sendJson} from './handlers.js'
import {isPlainObject, timestamp} from './object.js'
import type {ResourcePath} from './paths.js'
import {Fields, PROTOBUF, unwrap} from './protobuf.js'
import type {UserInfo} from './rbac.js'
import type {Registry} from './registry.js'
import type {RequestAttributes} from './request-info.js'
import {apiVersionOf, SERVICEACCOUNTS, type ResourceType} from './resources.js'
import {badRequest, invalid, invalidValue, methodNotAllowed, notFound} from './status.js'

/**
 * The create-only kinds whose answer is computed, never stored: access reviews (what `kubectl auth can-i` asks),
 * SelfSubjectReview (`kubectl auth whoami`), TokenReview, and the TokenRequest subresource of ServiceAccounts
 * (`kubectl create token`). kubectl sends these as protobuf, so their specs are read from either encoding.
 */

type Spec = Record<string, unknown>

const resourceAttributes = (f: Fields | undefined): Spec | undefined => f && {
  namespace: f.string(1) ?? '', verb: f.string(2) ?? '', group: f.string(3) ?? '', version: f.string(4) ?? '',
  resource: f.string(5) ?? '', subresource: f.string(6) ?? '', name: f.string(7) ?? '',
}
const nonResourceAttributes = (f: Fields | undefined): Spec | undefined => f && {path: f.string(1) ?? '', verb: f.string(2) ?? ''}

/** Each kind's spec from its protobuf fields (k8s.io/api/*\/v1/generated.proto). */
const PROTOBUF_SPECS: Record<string, (spec: Fields) => Spec> = {
  SelfSubjectAccessReview: (s) => ({resourceAttributes: resourceAttributes(s.message(1)), nonResourceAttributes: nonResourceAttributes(s.message(2))}),
  SubjectAccessReview: (s) => ({
    resourceAttributes: resourceAttributes(s.message(1)), nonResourceAttributes: nonResourceAttributes(s.message(2)),
    user: s.string(3), groups: s.strings(4), uid: s.string(6),
  }),
  SelfSubjectRulesReview: (s) => ({namespace: s.string(1) ?? ''}),
  SelfSubjectReview: () => ({}),
  TokenReview: (s) => ({token: s.string(1) ?? '', audiences: s.strings(2)}),
  TokenRequest: (s) => ({audiences: s.strings(1), expirationSeconds: s.number(4)}),
}

const isReview = (r: ResourceType): boolean => r.verbs?.length === 1 && r.verbs[0] === 'create'

/** Whether this path is one of the computed kinds handled here. */
export const isComputed = (path: ResourcePath): boolean => isReview(path.resource) || (path.resource === SERVICEACCOUNTS && path.subresource === 'token')

async function readSpec(req: IncomingMessage, kind: string): Promise<Spec> {
  const media = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase()
  if (media === PROTOBUF) {
    return PROTOBUF_SPECS[kind](unwrap(await readBytes(req)).object.message(2) ?? new Fields(Buffer.alloc(0)))
  }
  let body: unknown
  try {
    body = JSON.parse(await readBody(req))
  } catch (error) {
    throw badRequest(`json: ${(error as Error).message}`)
  }
  return isPlainObject(body) && isPlainObject(body.spec) ? body.spec : {}
}

export interface ReviewContext {
  access: Access
  registry: Registry
}

export async function handleComputed(req: IncomingMessage, res: ServerResponse, path: ResourcePath, user: UserInfo, ctx: ReviewContext): Promise<void> {
  if (req.method !== 'POST') throw methodNotAllowed()
  if (path.subresource === 'token') return sendJson(res, 201, await tokenRequest(req, path, ctx))
  const r = path.resource
  const spec = await readSpec(req, r.kind)
  const answer = (status: object, echo: Spec = spec): void =>
    sendJson(res, 201, {kind: r.kind, apiVersion: apiVersionOf(r), metadata: {creationTimestamp: null}, spec: echo, status})
  switch (r.kind) {
    case 'SelfSubjectAccessReview': return answer(decision(ctx.access, user, r, spec))
    case 'SubjectAccessReview': {
      const subject = {name: String(spec.user ?? ''), uid: spec.uid ? String(spec.uid) : undefined, groups: Array.isArray(spec.groups) ? spec.groups.map(String) : []}
      return answer(decision(ctx.access, subject, r, spec))
    }
    case 'SelfSubjectRulesReview': return answer(ctx.access.rules(user, String(spec.namespace ?? '')))
    case 'SelfSubjectReview': return answer({userInfo: userInfo(user)}, {})
    case 'TokenReview': {
      const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : [API_AUDIENCE]
      const found = ctx.access.authenticator.authenticateToken(String(spec.token ?? ''), audiences)
      return answer(found ? {authenticated: true, user: userInfo(found.user), audiences: found.audiences} : {user: {}, error: 'invalid bearer token'},
        {...spec, token: undefined})
    }
    default: throw badRequest(`${r.kind} is not a computed kind`)
  }
}

const userInfo = (user: UserInfo): object => ({username: user.name, ...(user.uid ? {uid: user.uid} : {}), groups: user.groups})

function decision(access: Access, user: UserInfo, r: ResourceType, spec: Spec): object {
  const res = isPlainObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined
  const nonRes = isPlainObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined
  if (Boolean(res) === Boolean(nonRes)) {
    throw invalid(r, '', [invalidValue('spec.resourceAttributes', res ?? null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified')])
  }
  const str = (o: Record<string, unknown> | undefined, k: string): string => String(o?.[k] ?? '')
  const attrs: RequestAttributes = res
    ? {verb: str(res, 'verb'), path: '', isResourceRequest: true, apiGroup: str(res, 'group'), apiVersion: str(res, 'version'),
        resource: str(res, 'resource'), subresource: str(res, 'subresource'), namespace: str(res, 'namespace'), name: str(res, 'name')}
    : {verb: str(nonRes, 'verb'), path: str(nonRes, 'path'), isResourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: ''}
  const {allowed, reason} = access.decide(user, attrs)
  return {allowed, ...(reason ? {reason} : {})}
}

/** Kubernetes refuses tokens shorter-lived than ten minutes, and defaults to an hour. */
const MIN_EXPIRATION_SECONDS = 600
const DEFAULT_EXPIRATION_SECONDS = 3600

async function tokenRequest(req: IncomingMessage, path: ResourcePath, ctx: ReviewContext): Promise<object> {
  const spec = await readSpec(req, 'TokenRequest')
  const name = path.name!
  const account = ctx.registry.store.get(SERVICEACCOUNTS, path.namespace, name)
  if (!account) throw notFound(SERVICEACCOUNTS, name)
  const expirationSeconds = typeof spec.expirationSeconds === 'number' && spec.expirationSeconds > 0 ? spec.expirationSeconds : DEFAULT_EXPIRATION_SECONDS
  if (expirationSeconds < MIN_EXPIRATION_SECONDS) {
    const tokenRequestType = {...SERVICEACCOUNTS, group: 'authentication.k8s.io', kind: 'TokenRequest'}
    throw invalid(tokenRequestType, name, [invalidValue('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes')])
  }
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : [API_AUDIENCE]
  const issued = ctx.access.authenticator.issue(account, audiences, expirationSeconds)
  return {
    kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
    metadata: {name, namespace: path.namespace, creationTimestamp: timestamp()},
    spec: {audiences, expirationSeconds, boundObjectRef: null},
    status: issued,
  }
}

import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage} from 'node:http'

import {timestamp, type KObject} from './object.js'
import {serviceAccountUser, type UserInfo} from './rbac.js'
import {SERVICEACCOUNTS} from './resources.js'
import type {Store} from './store.js'

/**
 * Bearer-token authentication as kube-apiserver does it with its default flags: a static token file's users, and
 * ServiceAccount tokens from the TokenRequest API; a request without credentials is `system:anonymous`
 * (--anonymous-auth defaults to true) and left to authorization, while a token that is not valid is 401 at once.
 */

export const ANONYMOUS: UserInfo = {name: 'system:anonymous', groups: ['system:unauthenticated']}
/** The issuer, and the audience a token must carry to be accepted by the API itself (--api-audiences defaults to it). */
export const API_AUDIENCE = 'https://kubernetes.default.svc.cluster.local'
const AUTHENTICATED = 'system:authenticated'

/** One line of kube-apiserver's --token-auth-file. */
export interface StaticToken {
  token: string
  user: string
  groups?: string[]
}

interface ServiceAccountClaims {
  iss: string
  sub: string
  aud: string[]
  exp: number
  iat: number
  nbf: number
  'kubernetes.io': {namespace: string; serviceaccount: {name: string; uid: string}}
}

export interface IssuedToken {
  token: string
  expirationTimestamp: string
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url')
const HEADER = base64url(JSON.stringify({alg: 'HS256', kid: 'redisctl-sandbox'}))

export class Authenticator {
  /** Signs ServiceAccount tokens; a new key per server, as tokens of an in-memory cluster need not outlive it. */
  private readonly key = randomBytes(32)
  private readonly statics = new Map<string, UserInfo>()

  constructor(private readonly store: Store, tokens: StaticToken[]) {
    for (const t of tokens) this.statics.set(t.token, {name: t.user, groups: [...(t.groups ?? []), AUTHENTICATED]})
  }

  /** The request's user: anonymous without a bearer token, undefined (401) when its token is not valid. */
  authenticateRequest(req: IncomingMessage): UserInfo | undefined {
    const bearer = /^bearer\s+(.*)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim()
    if (!bearer) return ANONYMOUS
    return this.authenticateToken(bearer, [API_AUDIENCE])?.user
  }

  /** A token's user and which of the wanted audiences it carries (TokenReview); undefined when it is not valid for any. */
  authenticateToken(token: string, audiences: string[], now = Date.now()): {user: UserInfo; audiences: string[]} | undefined {
    const user = this.statics.get(token)
    if (user) return {user, audiences}
    const claims = this.verify(token)
    if (!claims || claims.exp * 1000 <= now || claims.nbf * 1000 > now + 60_000) return undefined
    const accepted = audiences.filter((a) => claims.aud.includes(a))
    if (accepted.length === 0) return undefined
    const {namespace, serviceaccount} = claims['kubernetes.io']
    // A token dies with its ServiceAccount, even when one of the same name is created again.
    if (this.store.get(SERVICEACCOUNTS, namespace, serviceaccount.name)?.metadata.uid !== serviceaccount.uid) return undefined
    return {
      user: {name: claims.sub, uid: serviceaccount.uid, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, AUTHENTICATED]},
      audiences: accepted,
    }
  }

  issue(serviceAccount: KObject, audiences: string[], expirationSeconds: number, now = Date.now()): IssuedToken {
    const {name, namespace, uid} = serviceAccount.metadata
    const iat = Math.floor(now / 1000)
    const claims: ServiceAccountClaims = {
      iss: API_AUDIENCE, sub: serviceAccountUser(namespace!, name!), aud: audiences, exp: iat + expirationSeconds, iat, nbf: iat,
      'kubernetes.io': {namespace: namespace!, serviceaccount: {name: name!, uid: uid!}},
    }
    const unsigned = `${HEADER}.${base64url(JSON.stringify(claims))}`
    return {token: `${unsigned}.${this.sign(unsigned)}`, expirationTimestamp: timestamp(new Date(claims.exp * 1000))}
  }

  private sign(unsigned: string): string {
    return createHmac('sha256', this.key).update(unsigned).digest('base64url')
  }

  private verify(token: string): ServiceAccountClaims | undefined {
    const parts = token.split('.')
    if (parts.length !== 3 || parts[0] !== HEADER) return undefined
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`))
    const given = Buffer.from(parts[2])
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
    try {
      return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as ServiceAccountClaims
    } catch {
      return undefined
    }
  }
}

/**
 * Typed errors. Library code throws these; only the command layer renders them (src/cli/base-command.ts).
 * Each kind has a stable exit code that scripts can branch on (documented in docs/errors.md).
 */
export const ExitCode = {
  ok: 0,
  bug: 1,
  usage: 2,
  notFound: 3,
  precondition: 4,
  timeout: 5,
  kubeUnreachable: 6,
  redisUnreachable: 7,
  authFailed: 8,
  forbidden: 9,
  unhealthy: 10,
  unauthorized: 11,
  podStuck: 12,
  interrupted: 130,
  terminated: 143,
} as const

export type ExitCodeName = keyof typeof ExitCode

/** A problem the user can fix: says what was wrong and what to do about it. */
export class RedisctlError extends Error {
  readonly kind: ExitCodeName
  readonly suggestions: string[]

  constructor(kind: ExitCodeName, message: string, suggestions: string[] = [], options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'RedisctlError'
    this.kind = kind
    this.suggestions = suggestions
  }

  get exitCode(): number {
    return ExitCode[this.kind]
  }
}

export class UsageError extends RedisctlError {
  constructor(message: string, suggestions: string[] = []) {
    super('usage', message, suggestions)
    this.name = 'UsageError'
  }
}

export class NotFoundError extends RedisctlError {
  constructor(message: string, suggestions: string[] = []) {
    super('notFound', message, suggestions)
    this.name = 'NotFoundError'
  }
}

export class PreconditionError extends RedisctlError {
  constructor(message: string, suggestions: string[] = []) {
    super('precondition', message, suggestions)
    this.name = 'PreconditionError'
  }
}

export class TimeoutError extends RedisctlError {
  constructor(message: string, suggestions: string[] = []) {
    super('timeout', message, suggestions)
    this.name = 'TimeoutError'
  }
}

export class KubeUnreachableError extends RedisctlError {
  constructor(message: string, suggestions: string[] = [], options?: {cause?: unknown}) {
    super('kubeUnreachable', message, suggestions, options)
    this.name = 'KubeUnreachableError'
  }
}

export class RedisUnreachableError extends RedisctlError {
  constructor(message: string, suggestions: string[] = [], options?: {cause?: unknown}) {
    super('redisUnreachable', message, suggestions, options)
    this.name = 'RedisUnreachableError'
  }
}

/** What to do about a refused password, wherever it was met. */
export const AUTH_HINT = 'Check the Secret named by --password-secret (key "password") or REDISCTL_PASSWORD.'

/** What to do about a TLS handshake that failed (a certificate not trusted, a plaintext client at a TLS port). */
export const TLS_HINT = 'If the pods serve TLS and redisctl did not make them, give the CA that signed their certificates: --tls-ca-secret NAME or --tls-ca-file PATH (a cluster made with cluster create --tls needs neither).'

/** Node's words for a certificate it would not trust, and for a TLS handshake with a server that speaks none. */
export const isTlsFailure = (message: string): boolean => /certificate|self[- ]signed|altnames|TLS|SSL|wrong version number|Connection is closed/i.test(message)

export class AuthFailedError extends RedisctlError {
  constructor(message: string, suggestions: string[] = []) {
    super('authFailed', message, suggestions)
    this.name = 'AuthFailedError'
  }
}

/** The Kubernetes API refused what the command needs (RBAC: 403), or would, as its permission check found. */
export class ForbiddenError extends RedisctlError {
  constructor(message: string, suggestions: string[] = []) {
    super('forbidden', message, suggestions)
    this.name = 'ForbiddenError'
  }
}

/** The Kubernetes API rejected the kubeconfig's credentials (401): an expired token, a deleted ServiceAccount. */
export class UnauthorizedError extends RedisctlError {
  constructor(message: string, suggestions: string[] = []) {
    super('unauthorized', message, suggestions)
    this.name = 'UnauthorizedError'
  }
}

/** The cluster was inspected and found unhealthy (used by `check`). */
export class UnhealthyError extends RedisctlError {
  constructor(message: string, suggestions: string[] = []) {
    super('unhealthy', message, suggestions)
    this.name = 'UnhealthyError'
  }
}

/**
 * A pod that will not become Ready by itself (an image that cannot be pulled, a crash loop, a StorageClass that does
 * not exist): the wait stops at once rather than at --timeout, naming the pod and the reason.
 */
export class PodStuckError extends RedisctlError {
  readonly pod: string
  readonly reason: string

  constructor(pod: string, reason: string, suggestions: string[] = []) {
    super('podStuck', `Pod ${pod} will not become Ready: ${reason}`, suggestions)
    this.name = 'PodStuckError'
    this.pod = pod
    this.reason = reason
  }
}

/** The signals that stop a command cleanly: 128 + their number is the exit code, as a shell reports it. */
export type StopSignal = 'SIGINT' | 'SIGTERM'

/** What to do after any clean stop. */
export const RESUME_HINT = 'Run the same command again: it finishes the job.'

/**
 * Stopped by Ctrl-C (SIGINT, exit 130) or SIGTERM (exit 143) after finishing what was in flight; the message says
 * what was done.
 */
export class InterruptedError extends RedisctlError {
  constructor(readonly signal: StopSignal, message: string, suggestions: string[] = [RESUME_HINT]) {
    super(signal === 'SIGTERM' ? 'terminated' : 'interrupted', message, suggestions)
    this.name = 'InterruptedError'
  }
}

/** A condition that should never happen: a defect in redisctl, not the user's doing. */
export class BugError extends RedisctlError {
  constructor(message: string) {
    super('bug', message, ['This is a bug in redisctl; please report it with the command you ran.'])
    this.name = 'BugError'
  }
}

/**
 * How long one call may take, by default. A Redis node or an API server that accepts the connection and then says
 * nothing (a stopped process, a blackholed pod IP) must not hang a command: the call fails, naming whom it waited
 * for. Kept apart from the clients so that the help of --timeout can say them without loading either.
 */
export const REDIS_TIMEOUTS = {
  /** TCP connect, then the first PING. */
  connectMs: 3000,
  /** Any one admin command (CLUSTER NODES, INFO, SETSLOT, MEET ...). */
  commandMs: 15_000,
  /**
   * Commands of a slot migration, on connections of their own: a pipeline of MIGRATEs (each bounded by Redis at
   * MIGRATE's own timeout per I/O, and retried with a doubled one) and every command queued behind it.
   */
  migrationMs: 120_000,
} as const

/**
 * The bound of one admin command on a cluster of `nodes` nodes, when no --timeout says otherwise. Where the nodes
 * share a few cores, a node answers when its turn comes among all of them: forming 200 nodes on 2 cores, nodes took
 * over 15 s to answer CLUSTER NODES, while the forming was still making progress.
 */
export const redisCommandTimeoutMs = (nodes: number): number => Math.max(REDIS_TIMEOUTS.commandMs, 200 * nodes)

/** One Kubernetes API request. */
export const KUBE_REQUEST_TIMEOUT_MS = 30_000

/** Why a call, or a whole command, was abandoned: its time ran out (a Kubernetes request's bound, status --timeout). */
export class DeadlinePassed extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs / 1000} s`)
    this.name = 'DeadlinePassed'
  }
}

/** AbortSignal.timeout, aborting with a DeadlinePassed: what was cut short can say how long it had. */
export function deadlineSignal(timeoutMs: number): AbortSignal {
  const controller = new AbortController()
  setTimeout(() => controller.abort(new DeadlinePassed(timeoutMs)), timeoutMs).unref()
  return controller.signal
}

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

/** One Kubernetes API request. */
export const KUBE_REQUEST_TIMEOUT_MS = 30_000

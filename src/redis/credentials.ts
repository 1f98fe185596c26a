/**
 * Who redisctl is to Redis: a password alone authenticates as the `default` user (requirepass), a username with it
 * as that ACL user. Handed only to Redis clients and to MIGRATE inside the Redis protocol: never printed, logged, put
 * in JSON or in a child process's arguments or environment.
 */
export interface Credentials {
  username?: string
  password: string
  /** Where the password came from (a Secret's name, REDISCTL_PASSWORD), for the error when a node refuses it. */
  source?: string
}

/** MIGRATE's authentication for the target node: AUTH2 names the user, AUTH is the default user's password. */
export const migrateAuth = (credentials: Credentials | undefined): string[] =>
  !credentials ? [] : credentials.username ? ['AUTH2', credentials.username, credentials.password] : ['AUTH', credentials.password]

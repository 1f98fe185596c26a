/** The environment variable that may hold the Redis password (the default user's) for the CLI. */
export const PASSWORD_ENV = 'REDISCTL_PASSWORD'

/** The environment for a child process: this one's, without the password it may have been given. */
export function childEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const {[PASSWORD_ENV]: _password, ...rest} = env
  return rest
}

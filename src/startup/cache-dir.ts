import {homedir} from 'node:os'
import {join} from 'node:path'

/** A folder of redisctl's own in the user's cache ($XDG_CACHE_HOME, else ~/.cache): safe to delete at any time. */
export function userCacheDir(...parts: string[]): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'redisctl', ...parts)
}

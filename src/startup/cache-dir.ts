import {homedir} from 'node:os'
import {join} from 'node:path'

import {makeDirs} from '../util/make-dirs.js'

/**
 * A folder of redisctl's own in the user's cache ($XDG_CACHE_HOME, else ~/.cache), made if need be: safe to delete at
 * any time. Throws when it cannot be made.
 */
export function userCacheDir(...parts: string[]): string {
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'redisctl', ...parts)
  makeDirs(dir)
  return dir
}

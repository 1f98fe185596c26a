import {existsSync, mkdirSync} from 'node:fs'
import {dirname} from 'node:path'

/**
 * mkdir -p one level at a time: Node 24's recursive mkdir never returns for a path under /proc (nor does
 * module.enableCompileCache, which makes its folder that way), while a plain mkdir fails at once with the reason.
 */
export function makeDirs(dir: string): void {
  if (existsSync(dir)) return
  makeDirs(dirname(dir))
  mkdirSync(dir)
}

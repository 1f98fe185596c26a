/**
 * What bin/run.js and the single executable run: everything before oclif that decides how this process starts.
 * It imports oclif (and through it the command) only once the compile cache is on.
 */
import {readFileSync} from 'node:fs'
import {enableCompileCache} from 'node:module'
import {join} from 'node:path'
import {isSea} from 'node:sea'
import {fileURLToPath} from 'node:url'

import {userCacheDir} from './startup/cache-dir.js'
import {dropOutputOnClosedPipe} from './startup/closed-pipe.js'
import {memoryFlagsArgv, type CommandManifest} from './startup/memory-flags.js'
import {versionLine} from './startup/version.js'

/** The package root: package.json and oclif.manifest.json, with this file in dist/. */
const ROOT = fileURLToPath(new URL('..', import.meta.url))

export async function main(): Promise<void> {
  const version = versionLine(process.argv.slice(2), readPackage())
  if (version) {
    process.stdout.write(`${version}\n`)
    return
  }
  enableCompiledCodeCache()
  reexecWithMemoryFlags()
  dropOutputOnClosedPipe(process.stdout)
  dropOutputOnClosedPipe(process.stderr)
  const {runOclif} = await import('./startup/oclif.js')
  await runOclif(ROOT)
}

/**
 * V8 keeps code it compiled between runs (8% of status's CPU, bench/README.md#start-up). NODE_COMPILE_CACHE still
 * chooses another folder, NODE_DISABLE_COMPILE_CACHE=1 turns it off; a cache folder that cannot be made goes without.
 */
function enableCompiledCodeCache(): void {
  let dir
  try {
    dir = userCacheDir('compile-cache')
  } catch {
    return
  }
  enableCompileCache(dir)
}

/** Without process.execve (Windows) the defaults stay. */
function reexecWithMemoryFlags(): void {
  if (typeof process.execve !== 'function') return
  const argv = memoryFlagsArgv(
    {execPath: process.execPath, argv: process.argv, execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS, sea: isSea()},
    manifestCommands(),
  )
  if (argv) process.execve(process.execPath, argv, process.env)
}

function readPackage(): {name: string; version: string} {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {name: string; version: string}
}

function manifestCommands(): CommandManifest {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: CommandManifest}).commands
  } catch {
    return {}
  }
}

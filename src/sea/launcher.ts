/**
 * The main script of the single executable (scripts/build-sea.mjs). Node runs an embedded script only as one
 * CommonJS file, while the CLI is the bundle in dist/: a package root that oclif reads, ES modules it imports on
 * demand, and scripts the CLI starts as processes of their own (the sandbox daemon). So the executable carries that
 * package as assets, writes it once per build into the user's cache, and runs it from there with its own Node.
 */
import {existsSync, mkdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve, sep} from 'node:path'
import {getAsset} from 'node:sea'
import {pathToFileURL} from 'node:url'

import {userCacheDir} from '../startup/cache-dir.js'

/** The asset that lists the others; written by scripts/build-sea.mjs. */
export const INDEX_ASSET = 'sea-files.json'

interface AssetIndex {
  /** Changes with every byte of every file: a new build never runs an older one's files. */
  id: string
  /** Paths relative to the package root; each is also the name of its asset. */
  files: string[]
}

const root = extractPackage(JSON.parse(getAsset(INDEX_ASSET, 'utf8')) as AssetIndex)
const script = process.argv[2] === undefined ? undefined : resolve(process.argv[2])
if (script?.startsWith(join(root, 'dist') + sep)) {
  // `<executable> <one of its own scripts> args` runs that script as `node <script> args` would: this is how
  // process.execPath starts the sandbox daemon from inside the executable.
  process.argv.splice(1, 1)
  void import(pathToFileURL(script).href)
} else {
  void import(pathToFileURL(join(root, 'dist', 'main.js')).href).then((cli: {main(): Promise<void>}) => cli.main())
}

/**
 * The package's folder, written in full before it gets its name: a run killed half-way leaves a temporary folder, never
 * a partial package, and two first runs at once both end up with one complete copy.
 */
function extractPackage(index: AssetIndex): string {
  let builds
  try {
    builds = userCacheDir('sea')
  } catch (error) {
    process.stderr.write(`redisctl cannot make its folder in the user's cache (${(error as Error).message}). Set XDG_CACHE_HOME to a writable folder.\n`)
    process.exit(3)
  }
  const target = join(builds, index.id)
  if (existsSync(target)) return target
  const partial = `${target}.${process.pid}.partial`
  for (const file of index.files) {
    mkdirSync(dirname(join(partial, file)), {recursive: true})
    writeFileSync(join(partial, file), new Uint8Array(getAsset(file)))
  }
  try {
    renameSync(partial, target)
  } catch (error) {
    rmSync(partial, {recursive: true, force: true})
    if (!existsSync(target)) throw error
  }
  return target
}

// Builds the standalone `redisctl` executable (Node's single executable applications): this Node binary with the
// bundle in dist/ inside it, which runs on a machine without Node. Run `npm run build` first (`npm run build:sea`
// does both).
//   node scripts/build-sea.mjs [--out dist/sea/redisctl]
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {parseArgs} from 'node:util'

import {build} from 'esbuild'
import {inject} from 'postject'

const {values} = parseArgs({options: {out: {type: 'string', default: 'dist/sea/redisctl'}}})
const out = resolve(values.out)
const work = `${out}.build`
rmSync(work, {recursive: true, force: true})
mkdirSync(work, {recursive: true})

// What the launcher (src/sea/launcher.ts) writes out on first run: the package as bin/run.js sees it, less the source
// maps. Each file is an asset under its path.
const files = ['package.json', 'oclif.manifest.json', ...readdirSync('dist').filter((f) => f.endsWith('.js')).map((f) => `dist/${f}`)]
const hash = createHash('sha256')
for (const file of files) hash.update(file).update(readFileSync(file))
const index = {id: `${JSON.parse(readFileSync('package.json', 'utf8')).version}-${hash.digest('hex').slice(0, 16)}`, files}
writeFileSync(join(work, 'sea-files.json'), JSON.stringify(index))

await build({
  entryPoints: ['src/sea/launcher.ts'],
  outfile: join(work, 'launcher.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  logLevel: 'warning',
})

const config = {
  main: join(work, 'launcher.cjs'),
  output: join(work, 'sea.blob'),
  disableExperimentalSEAWarning: true,
  // The launcher imports the package with import(), which an embedded code cache rules out; the package's modules get
  // the compile cache from dist/main.js instead.
  useCodeCache: false,
  // Node's flags come as --node-options="..." on the command line: how the CLI re-executes itself with the memory
  // flags (src/startup/memory-flags.ts), which NODE_OPTIONS would refuse.
  execArgvExtension: 'cli',
  assets: Object.fromEntries([['sea-files.json', join(work, 'sea-files.json')], ...files.map((f) => [f, resolve(f)])]),
}
writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config))
execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {stdio: 'inherit'})

mkdirSync(dirname(out), {recursive: true})
copyFileSync(process.execPath, `${out}.tmp`)
await inject(`${out}.tmp`, 'NODE_SEA_BLOB', readFileSync(config.output), {sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'})
renameSync(`${out}.tmp`, out)
rmSync(work, {recursive: true, force: true})
console.log(`wrote ${out}`)

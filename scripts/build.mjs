// Bundles the CLI into dist/: a few ES modules with every dependency inside (node_modules is not read at run time),
// split where the code imports on demand, so a command loads only what it runs (bench/README.md#start-up).
//   node scripts/build.mjs
import {rm} from 'node:fs/promises'

import {build} from 'esbuild'

await rm('dist', {recursive: true, force: true})
await build({
  entryPoints: {
    // bin/run.js imports main; oclif imports index (package.json oclif.commands).
    main: 'src/main.ts',
    index: 'src/index.ts',
    // Scripts of their own. Flat in dist/ next to the chunks: src/sandbox/lifecycle.ts finds the daemon beside
    // itself (new URL('./daemon-main.js', import.meta.url)), wherever its code lands.
    'daemon-main': 'src/sandbox/daemon-main.ts',
    kubelet: 'src/sandbox/kubelet/main.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // The bundled CommonJS packages (oclif, ioredis) call require(); an ES module has none of its own.
  banner: {js: "import {createRequire as __redisctlRequire} from 'node:module'; const require = __redisctlRequire(import.meta.url);"},
  // oclif reaches for TypeScript only to run commands from source in development, which src/main.ts turns off.
  external: ['typescript'],
  // Half the bytes, and ASCII only: V8 keeps a source with any other character at two bytes per character, for
  // client-node's 4 MB that is 8 MB more memory (bench/README.md#start-up). Names stay, for stack traces.
  minifyWhitespace: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: process.argv.includes('--metafile'),
}).then(async (result) => {
  if (result.metafile) {
    const {writeFile} = await import('node:fs/promises')
    await writeFile('dist/meta.json', JSON.stringify(result.metafile))
  }
})

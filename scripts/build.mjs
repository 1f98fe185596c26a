// Bundles the CLI into dist/: a few ES modules with every dependency inside (node_modules is not read at run time),
// split where the code imports on demand, so a command loads only what it runs (bench/README.md#start-up).
//   node scripts/build.mjs
import {readFile, rm, writeFile} from 'node:fs/promises'

import {build} from 'esbuild'

/** Loads the JavaScript of dependencies with every character beyond ASCII written as a \\u escape. */
const asciiOnly = {
  name: 'ascii-only',
  setup(build) {
    build.onLoad({filter: /[/\\]node_modules[/\\].*\.[cm]?js$/}, async (args) => {
      const text = await readFile(args.path, 'utf8')
      // eslint-disable-next-line no-control-regex
      if (!/[^\x00-\x7f]/.test(text)) return undefined
      // eslint-disable-next-line no-control-regex
      return {contents: text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), loader: 'js'}
    })
  },
}

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
  // Half the bytes. Names stay, for stack traces.
  minifyWhitespace: true,
  // V8 keeps a source with a single character beyond ASCII at two bytes per character: one name in undici's license
  // comment doubled the 2 MB client-node chunk in memory (bench/README.md#start-up). So licenses go to *.LEGAL.txt
  // files, and asciiOnly escapes what esbuild leaves as it is (a regular expression in oclif's ansis).
  legalComments: 'external',
  sourcemap: 'linked',
  plugins: [asciiOnly],
  logLevel: 'warning',
  // What each file holds, for bench/README.md#start-up: node scripts/build.mjs --metafile
  metafile: process.argv.includes('--metafile'),
}).then((result) => result.metafile && writeFile('dist/meta.json', JSON.stringify(result.metafile)))


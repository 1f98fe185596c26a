#!/usr/bin/env node
// Fail with one clear line on an old Node: client-node, listr2 and chalk crash on import before 22.19.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(`redisctl needs Node.js >= 22.19; this is ${process.version}. Install a newer Node.js, or run scripts/demo or scripts/test, which install one inside the project.`)
  process.exit(3)
}

// Moving slots allocates fast, and V8 then lets promoted garbage pile up in a generous heap: 205-225 MB RSS moving
// 250k of 1M keys with Node's defaults or with small semi-spaces alone, 139-148 MB with these flags, no slower
// (bench/README.md). V8 reads them only at start-up (v8.setFlagsFromString comes too late, and NODE_OPTIONS refuses
// --optimize-for-size), so the process re-executes itself once with them, keeping its pid, stdio and signals. Flags
// the user gave win; without process.execve (Windows) the defaults stay.
const MEMORY_FLAGS = ['--max-semi-space-size=4', '--optimize-for-size']
const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  .some((arg) => MEMORY_FLAGS.some((flag) => arg.startsWith(flag.split('=')[0])))
if (!given && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, ...MEMORY_FLAGS, ...process.execArgv, ...process.argv.slice(1)], process.env)
}

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})

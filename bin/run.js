#!/usr/bin/env node
// Fail with one clear line on an old Node: client-node, listr2 and chalk crash on import before 22.19.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(`redisctl needs Node.js >= 22.19; this is ${process.version}. Install a newer Node.js, or run scripts/demo or scripts/test, which install one inside the project.`)
  process.exit(3)
}

const {main} = await import('../dist/main.js')
await main()

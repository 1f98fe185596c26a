/**
 * The sandbox's background process, started by `redisctl sandbox up`. It runs until SIGTERM/SIGINT, then stops
 * every redis-server it started before exiting.
 */
import {parseArgs} from 'node:util'

import {runSandbox} from './daemon.js'

const {values} = parseArgs({
  options: {dir: {type: 'string'}, nodes: {type: 'string'}, zones: {type: 'string'}, port: {type: 'string'}, 'pod-ip-range': {type: 'string'}},
})

const log = (line: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`)
}

try {
  const sandbox = await runSandbox({
    dir: values.dir!,
    nodes: Number(values.nodes),
    zones: Number(values.zones),
    port: Number(values.port),
    podIpRange: values['pod-ip-range']!,
    log,
  })
  log(`sandbox up: ${sandbox.server}`)
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    log(`${signal}: stopping`)
    sandbox.stop().then(() => process.exit(0), (error: unknown) => {
      log(`stop failed: ${String(error)}`)
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
} catch (error) {
  log(`sandbox failed to start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}

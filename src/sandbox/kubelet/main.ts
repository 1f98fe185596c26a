/**
 * The kubelet as a process of its own:
 *   node dist/kubelet.js --kubeconfig FILE --nodes a,b,c --state-dir DIR [--ip-range CIDR] [--redis-server PATH]
 * It stops every redis-server it started on SIGTERM or SIGINT, then exits.
 */
import {KubeConfig} from '@kubernetes/client-node'
import {parseArgs} from 'node:util'

import {startKubelet} from './index.js'

const {values} = parseArgs({
  options: {
    kubeconfig: {type: 'string'},
    nodes: {type: 'string'},
    'state-dir': {type: 'string'},
    'ip-range': {type: 'string'},
    'redis-server': {type: 'string'},
  },
})

if (!values.kubeconfig || !values.nodes || !values['state-dir']) {
  process.stderr.write('usage: kubelet --kubeconfig FILE --nodes a,b,c --state-dir DIR [--ip-range CIDR] [--redis-server PATH]\n')
  process.exit(2)
}

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`)
const kc = plainHttpAllowed(values.kubeconfig)

try {
  const kubelet = await startKubelet(kc, {
    nodeNames: values.nodes.split(',').filter(Boolean),
    stateDir: values['state-dir'],
    ipRange: values['ip-range'],
    redisServerPath: values['redis-server'],
    log,
  })
  log('kubelet: running')
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log(`kubelet: ${signal}, stopping`)
    kubelet.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`kubelet: stop failed: ${String(error)}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
} catch (error) {
  log(`kubelet: cannot start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}

/**
 * Loads a kubeconfig, letting a plain-HTTP server (the sandbox's) through as kubectl does: client-node refuses
 * http:// unless skipTLSVerify is set, which for a server without TLS changes nothing else.
 */
function plainHttpAllowed(file: string): KubeConfig {
  const loaded = new KubeConfig()
  loaded.loadFromFile(file)
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: loaded.clusters.map((c) => ({...c, skipTLSVerify: c.skipTLSVerify || c.server.startsWith('http:')})),
    users: loaded.users,
    contexts: loaded.contexts,
    currentContext: loaded.currentContext,
  })
  return kc
}

/**
 * The kubelet as a process of its own:
 *   node dist/kubelet.js --kubeconfig FILE --nodes a,b,c --state-dir DIR [--ip-range CIDR] [--redis-server PATH]
 *     [--image-map FILE] [--node-ip IP,...] [--address IP] [--port 10250] [--tls-cert-file FILE --tls-private-key-file FILE]
 *     [--cert-dir DIR] [--client-ca-file FILE] [--anonymous-auth=true|false]
 * The serving flags are the kubelet's own. It stops every redis-server it started on SIGTERM or SIGINT, then exits.
 */
import {readFileSync} from 'node:fs'
import {parseArgs} from 'node:util'

import {KubeConfig} from '@kubernetes/client-node'

import {type ServingOptions, startKubelet} from './index.js'

const USAGE = 'usage: kubelet --kubeconfig FILE --nodes a,b,c --state-dir DIR [--ip-range CIDR] [--redis-server PATH] [--image-map FILE] [--node-ip IP,...]\n' +
  '  [--address IP] [--port N] [--tls-cert-file FILE --tls-private-key-file FILE] [--cert-dir DIR] [--client-ca-file FILE] [--anonymous-auth=BOOL]\n'

const {values} = parseArgs({
  options: {
    kubeconfig: {type: 'string'},
    nodes: {type: 'string'},
    'state-dir': {type: 'string'},
    'ip-range': {type: 'string'},
    'redis-server': {type: 'string'},
    'image-map': {type: 'string'},
    'node-ip': {type: 'string'},
    address: {type: 'string'},
    port: {type: 'string'},
    'tls-cert-file': {type: 'string'},
    'tls-private-key-file': {type: 'string'},
    'cert-dir': {type: 'string'},
    'client-ca-file': {type: 'string'},
    'anonymous-auth': {type: 'string'},
  },
})

const usageError = (message: string): never => {
  process.stderr.write(`${message}\n${USAGE}`)
  process.exit(2)
}

if (!values.kubeconfig || !values.nodes || !values['state-dir']) usageError('--kubeconfig, --nodes and --state-dir are required.')

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`)

try {
  const kc = plainHttpAllowed(values.kubeconfig!)
  const kubelet = await startKubelet(kc, {
    nodeNames: values.nodes!.split(',').filter(Boolean),
    stateDir: values['state-dir']!,
    ipRange: values['ip-range'],
    redisServerPath: values['redis-server'],
    imageMapFile: values['image-map'],
    serving: servingOptions(),
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

/** The kubelet's serving flags, with its defaults: port 10250, a self-signed certificate, anonymous requests allowed. */
function servingOptions(): ServingOptions {
  const certFile = values['tls-cert-file']
  const keyFile = values['tls-private-key-file']
  if (Boolean(certFile) !== Boolean(keyFile)) usageError('--tls-cert-file and --tls-private-key-file go together.')
  const port = values.port === undefined ? undefined : Number(values.port)
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) usageError(`--port ${values.port} is not a port number.`)
  const anonymous = values['anonymous-auth']
  if (anonymous !== undefined && anonymous !== 'true' && anonymous !== 'false') usageError(`--anonymous-auth takes true or false, not ${anonymous}.`)
  return {
    nodeIps: values['node-ip']?.split(',').filter(Boolean),
    address: values.address,
    port,
    tls: certFile && keyFile ? {cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8')} : undefined,
    certDir: values['cert-dir'],
    clientCa: values['client-ca-file'] ? readFileSync(values['client-ca-file'], 'utf8') : undefined,
    anonymousAuth: anonymous === undefined ? undefined : anonymous === 'true',
  }
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

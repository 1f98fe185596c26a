import {readFile, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import {request} from 'node:https'
import {dirname, join} from 'node:path'

/**
 * A plain-HTTP proxy in front of a kubeconfig's API server that notes every request, and a copy of the kubeconfig
 * that goes through it: what a command asks Kubernetes, counted from outside the command; with `delayMs`, an API
 * server that takes that long over every answer. The proxy answers from the caller's event loop, so the command must
 * run asynchronously (runCli, execFile).
 */
export interface KubeRequestLog {
  /** The kubeconfig to hand the command (written beside the original). */
  kubeconfig: string
  /** "GET /api/v1/namespaces/default/pods?labelSelector=app=legacy", in the order they came. */
  seen: string[]
  close(): Promise<void>
}

export async function logKubeRequests(kubeconfig: string, options: {delayMs?: number} = {}): Promise<KubeRequestLog> {
  const config = await readFile(kubeconfig, 'utf8')
  const upstream = new URL(/server: (\S+)/.exec(config)![1])
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(config)![1], 'base64')
  const seen: string[] = []
  const proxy: Server = createServer((req, res) => {
    seen.push(`${req.method} ${decodeURIComponent(req.url ?? '')}`)
    const forward = request({host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, ca}, (answer) => {
      setTimeout(() => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }, options.delayMs ?? 0)
    })
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done))
  const {port} = proxy.address() as {port: number}
  const proxied = join(dirname(kubeconfig), `kubeconfig-logged-${port}`)
  await writeFile(proxied, config.replace(upstream.origin, `http://127.0.0.1:${port}`))
  return {
    kubeconfig: proxied,
    seen,
    close: () => new Promise((done) => {
      proxy.close(() => done())
      proxy.closeAllConnections()
    }),
  }
}

import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {ExitCode, InterruptedError} from '../../src/errors.js'
import {connectKube} from '../../src/kube/context.js'

/** An API server that accepts connections and never answers, as a hung or blackholed one does. */
async function silentServer(): Promise<{server: Server; url: string; sockets: Socket[]}> {
  const sockets: Socket[] = []
  const server = createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {server, sockets, url: `http://127.0.0.1:${(server.address() as {port: number}).port}`}
}

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup) await c()
  cleanup = []
})

async function kubeconfigFor(url: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'redisctl-deadline-'))
  cleanup.push(() => rm(dir, {recursive: true, force: true}))
  const file = join(dir, 'kubeconfig')
  await writeFile(file, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${url}"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]
current-context: x
`)
  return file
}

async function silentApi(): Promise<{kubeconfig: string; url: string}> {
  const {server, sockets, url} = await silentServer()
  cleanup.push(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return {kubeconfig: await kubeconfigFor(url), url}
}

describe('a Kubernetes API that accepts the connection and says nothing', () => {
  it('fails the call after its deadline as unreachable (exit 6), naming the server, the deadline and the call', async () => {
    const {kubeconfig, url} = await silentApi()
    const kube = connectKube({kubeconfig, requestTimeoutMs: 300})

    const error = await kube.call('listing pods in namespace ns', () => kube.core.listNamespacedPod({namespace: 'ns'})).catch((e: unknown) => e)

    expect(error).toMatchObject({kind: 'kubeUnreachable', exitCode: ExitCode.kubeUnreachable})
    expect((error as Error).message).toBe(`The Kubernetes API at ${url} did not answer within 0.3 s while listing pods in namespace ns.`)
  })

  it('abandons the call at once when the command is stopped, with the stop as the error', async () => {
    const {kubeconfig} = await silentApi()
    const stop = new AbortController()
    const kube = connectKube({kubeconfig, signal: stop.signal})
    setTimeout(() => stop.abort(new InterruptedError('SIGTERM', 'Stopped by SIGTERM.')), 100)

    const started = Date.now()
    const error = await kube.call('reading StatefulSet redis', () => kube.apps.readNamespacedStatefulSet({name: 'redis', namespace: 'ns'})).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as InterruptedError).exitCode).toBe(143)
    expect(Date.now() - started).toBeLessThan(10_000)
  })
})

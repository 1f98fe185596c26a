import {execFile} from 'node:child_process'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {request} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import {ApiException, AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api, type V1Pod} from '@kubernetes/client-node'
import {expect} from 'vitest'

import {startApiServer, type ApiServerOptions, type RunningApiServer} from '../../src/sandbox/apiserver/server.js'
import {sandboxKubeconfig} from '../../src/sandbox/kubeconfig.js'

/** A running API server with client-node clients and a kubeconfig file for kubectl, as the sandbox's users see it. */
export interface ApiFixture {
  server: RunningApiServer
  kc: KubeConfig
  kubeconfig: string
  core: CoreV1Api
  apps: AppsV1Api
  policy: PolicyV1Api
  /** A raw request to the server as its admin, answered as a fetch Response. */
  fetch(path: string, init?: RawRequest): Promise<Response>
  stop(): Promise<void>
}

export interface RawRequest {
  method?: string
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
  /** The bearer token to present; none makes the request anonymous. */
  token?: string
}

/** An HTTPS request that trusts the server's own certificate, as a kubeconfig with its certificate-authority-data does. */
export function rawFetch(server: RunningApiServer, path: string, init: RawRequest = {}): Promise<Response> {
  const headers = {...init.headers, ...(init.token ? {Authorization: `Bearer ${init.token}`} : {})}
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server.url), {method: init.method ?? 'GET', headers, ca: server.ca, signal: init.signal}, (res) => {
      const responseHeaders = Object.entries(res.headers).map(([k, v]): [string, string] => [k, String(v)])
      resolve(new Response(Readable.toWeb(res) as ReadableStream, {status: res.statusCode, headers: responseHeaders}))
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

export async function startApiFixture(options: ApiServerOptions = {}): Promise<ApiFixture> {
  const server = await startApiServer(options)
  const dir = await mkdtemp(join(tmpdir(), 'redisctl-apiserver-'))
  const kubeconfig = join(dir, 'kubeconfig')
  await writeFile(kubeconfig, sandboxKubeconfig({server: server.url, ca: server.ca}, {token: server.adminToken}))
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfig)
  const core = kc.makeApiClient(CoreV1Api)
  await core.createNamespace({body: {metadata: {name: 'default'}}})
  return {
    server, kc, kubeconfig, core,
    apps: kc.makeApiClient(AppsV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    fetch: (path, init) => rawFetch(server, path, {token: server.adminToken, ...init}),
    async stop() {
      await server.close()
      await rm(dir, {recursive: true, force: true})
    },
  }
}

/** The Status body of a failed call, so that tests can assert on the exact shape the real API server returns. */
export async function failure(call: Promise<unknown>): Promise<{code: number; body: Record<string, unknown>}> {
  try {
    await call
  } catch (error) {
    if (!(error instanceof ApiException)) throw error
    const raw = (error as ApiException<unknown>).body
    return {code: error.code, body: typeof raw === 'string' ? JSON.parse(raw) : raw as Record<string, unknown>}
  }
  throw new Error('expected the call to fail')
}

export async function expectStatus(call: Promise<unknown>, code: number, reason: string, message: string): Promise<Record<string, unknown>> {
  const {code: actual, body} = await failure(call)
  expect(actual).toBe(code)
  expect(body).toMatchObject({kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code})
  return body
}

export function podManifest(name: string, labels: Record<string, string> = {}): V1Pod {
  return {metadata: {name, labels}, spec: {containers: [{name: 'redis', image: 'redis:7.0', command: ['redis-server']}]}}
}

/** Polls fast until the check holds, for state that other actors (watches, port-forwards) change. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

export interface KubectlResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs kubectl against the fixture's server; bounded by a timeout so a hang fails the test instead of the run.
 * `stdin` reaches kubectl through a shell pipe, as `printf ... | kubectl` gives it: Node hands a child a socket,
 * which `/dev/stdin` cannot open.
 */
export function kubectl(api: {kubeconfig: string}, args: string[], env: Record<string, string> = {}, stdin?: string): Promise<KubectlResult> {
  const argv = ['--kubeconfig', api.kubeconfig, ...args]
  const [file, fileArgs] = stdin === undefined ? ['kubectl', argv] : ['sh', ['-c', 'cat | kubectl "$@"', 'sh', ...argv]]
  return new Promise((resolve) => {
    const child = execFile(file, fileArgs, {timeout: 60_000, env: {...process.env, ...env}}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr})
    })
    child.stdin?.end(stdin)
  })
}

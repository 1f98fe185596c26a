import {request} from 'node:https'

import {WebSocket} from 'ws'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type PodEndpoint, startStreamingServer, type StreamingServer} from '../../src/sandbox/kubelet/streaming-server.js'
import {createCertificateAuthority, issueCertificate, type PemKeyPair} from '../../src/tls/certificates.js'
import {startRedisNodes, type RedisNodes} from '../support/redis-nodes.js'

/**
 * The kubelet's HTTPS streaming server on its own, spoken to as kube-apiserver speaks to it: how it authenticates
 * callers, how it answers for pods it does not run, and the WebSocket and SPDY port-forward it serves.
 */
const ADDRESS = '127.62.255.1'

let redis: RedisNodes
let ca: PemKeyPair
let apiserverClient: PemKeyPair
let serving: PemKeyPair
const servers: StreamingServer[] = []

const pods = new Map<string, PodEndpoint>()
const findPod = (namespace: string, name: string): PodEndpoint | undefined => pods.get(`${namespace}/${name}`)

beforeAll(async () => {
  redis = await startRedisNodes(1, {cluster: false})
  ca = await createCertificateAuthority('kubelet-test-ca')
  ;[apiserverClient, serving] = await Promise.all([
    issueCertificate(ca, {commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usages: ['client']}),
    issueCertificate(ca, {commonName: 'node', ipAddresses: [ADDRESS], usages: ['server']}),
  ])
  pods.set('default/redis-0', {uid: 'uid-0', ip: redis.nodes[0].host})
  pods.set('default/starting-0', {uid: 'uid-1'})
})

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await redis?.stop()
})

async function kubelet(auth: {clientCa?: string; anonymousAuth: boolean}): Promise<string> {
  const server = await startStreamingServer({address: ADDRESS, port: 0, ...serving, ...auth, findPod, log: () => {}})
  servers.push(server)
  return `${ADDRESS}:${server.port}`
}

type Outcome = {status: number; body: string} | {forwarded: string}

/** A WebSocket port-forward (v4.channel.k8s.io) that PINGs the pod's redis-server through the kubelet. */
function forwardPing(endpoint: string, path: string, identity?: PemKeyPair): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${endpoint}${path}`, ['v4.channel.k8s.io'], {ca: ca.cert, ...identity})
    const opened = new Set<number>()
    let reply = ''
    ws.on('message', (data: Buffer) => {
      const channel = data[0]
      if (!opened.has(channel)) {
        // The first frame on each channel is the port, 2 bytes little-endian.
        opened.add(channel)
        if (opened.size === 2) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('PING\r\n')]))
        return
      }
      reply += data.subarray(1).toString()
      if (reply.includes('\r\n')) {
        ws.close()
        resolve({forwarded: reply.trim()})
      }
    })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    ws.on('error', (error) => reject(error))
  })
}

/** A plain request to the kubelet, answered without an upgrade. */
function get(endpoint: string, path: string, headers: Record<string, string> = {}): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const [host, port] = endpoint.split(':')
    const req = request({host, port: Number(port), path, method: 'POST', headers, ca: ca.cert}, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the kubelet streaming server with a client CA and anonymous requests off (as the sandbox runs it)', () => {
  let endpoint: string
  beforeAll(async () => {
    endpoint = await kubelet({clientCa: ca.cert, anonymousAuth: false})
  })

  it('forwards a caller whose certificate the CA signed to the pod\'s redis-server', async () => {
    expect(await forwardPing(endpoint, '/portForward/default/redis-0?port=6379', apiserverClient)).toEqual({forwarded: '+PONG'})
  })

  it('answers 401 Unauthorized to a caller without a certificate', async () => {
    expect(await forwardPing(endpoint, '/portForward/default/redis-0?port=6379')).toEqual({status: 401, body: 'Unauthorized'})
  })

  it('answers 401 Unauthorized to a caller whose certificate another CA signed', async () => {
    const stranger = await issueCertificate(await createCertificateAuthority('stranger'), {commonName: 'stranger', usages: ['client']})
    expect(await forwardPing(endpoint, '/portForward/default/redis-0?port=6379', stranger)).toEqual({status: 401, body: 'Unauthorized'})
  })
})

describe('the kubelet streaming server with its defaults (no client CA, anonymous requests allowed)', () => {
  let endpoint: string
  beforeAll(async () => {
    endpoint = await kubelet({anonymousAuth: true})
  })

  it('forwards any caller to the pod', async () => {
    expect(await forwardPing(endpoint, '/portForward/default/redis-0/uid-0?port=6379')).toEqual({forwarded: '+PONG'})
  })

  it.each([
    ['a pod it does not run', '/portForward/default/ghost?port=6379', 404, 'pod does not exist'],
    ['another incarnation of the pod', '/portForward/default/redis-0/uid-other?port=6379', 404, 'pod not found'],
    ['a pod whose servers have not started', '/portForward/default/starting-0?port=6379', 500, 'pod not found ("starting-0_default")'],
    ['a WebSocket without ports', '/portForward/default/redis-0', 400, 'query parameter "port" is required'],
    ['port 0', '/portForward/default/redis-0?port=0', 400, 'port "0" must be > 0'],
    ['another path', '/exec/default/redis-0/redis?command=sh', 404, '404: Page Not Found'],
  ])('refuses %s before upgrading: %i %s', async (_what, path, status, body) => {
    expect(await forwardPing(endpoint, path)).toEqual({status, body})
  })

  it('refuses a SPDY upgrade that offers no port-forward protocol with 403', async () => {
    const refused = await get(endpoint, '/portForward/default/redis-0', {Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io'})
    expect(refused).toEqual({status: 403, body: 'unable to upgrade: unable to negotiate protocol: client supports [v4.channel.k8s.io], server accepts [portforward.k8s.io]'})
  })

  it('refuses a request that asks for no upgrade with 400', async () => {
    expect(await get(endpoint, '/portForward/default/redis-0')).toEqual({status: 400, body: 'unable to upgrade: missing upgrade headers in request'})
  })
})

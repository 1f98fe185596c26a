import {X509Certificate} from 'node:crypto'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {checkServerIdentity, connect, type ConnectionOptions} from 'node:tls'

import {Cluster} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CheckResult} from '../../src/commands/check.js'
import type {DrillFailoverResult} from '../../src/commands/drill/failover.js'
import type {FailoverResult} from '../../src/commands/failover.js'
import type {TlsRotateResult} from '../../src/commands/tls/rotate.js'
import {createCertificateAuthority, issueCertificate} from '../../src/tls/certificates.js'
import {json} from '../support/cli.js'
import {SELECTOR, statusNodes, value} from './cluster-data.js'
import {pods, redisCli, secretValue, startE2eSandbox, waitFor, type E2eSandbox} from './e2e-support.js'
import {startTraffic} from './traffic-support.js'

const KEYS = 20_000
const HEADLESS = 'redis-cluster-headless.default.svc'

interface Material {
  ca: string
  cert: string
  key: string
  dir: string
}

/** A TLS Secret (the cluster's by default) as a user with kubectl reads it, written to files (0600) for redis-cli. */
async function secretMaterial(sandbox: E2eSandbox, dir: string, secret = 'redis-cluster-tls'): Promise<Material> {
  const got = await sandbox.kubectl(['get', 'secret', secret, '-o', 'json'])
  expect(got.code, got.stderr).toBe(0)
  const data = (JSON.parse(got.stdout) as {data: Record<string, string>}).data
  const decode = (k: string): string => Buffer.from(data[k], 'base64').toString('utf8')
  const material = {ca: decode('ca.crt'), cert: decode('tls.crt'), key: decode('tls.key'), dir}
  await writeFile(join(dir, 'ca.crt'), material.ca, {mode: 0o600})
  await writeFile(join(dir, 'tls.crt'), material.cert, {mode: 0o600})
  await writeFile(join(dir, 'tls.key'), material.key, {mode: 0o600})
  return material
}

/**
 * How a client reaches the TLS cluster from the loopback test bed: the nodes announce their DNS names, which do not
 * resolve here, so the announced names map to the pod IPs, and each node is verified against its own pod's name.
 */
async function tlsConnection(sandbox: E2eSandbox, material: Material) {
  const list = await pods(sandbox, SELECTOR)
  const byName = new Map(list.map((p) => [`${p.name}.${HEADLESS}`, p.ip!]))
  const byIp = new Map(list.map((p) => [p.ip!, `${p.name}.${HEADLESS}`]))
  return {
    seeds: list.map((p) => ({host: p.ip!, port: 6379})),
    natMap: (key: string) => {
      const [host, port] = key.split(':')
      const ip = byName.get(host)
      return ip ? {host: ip, port: Number(port)} : null
    },
    redisOptions: {
      tls: {
        ca: material.ca, cert: material.cert, key: material.key,
        checkServerIdentity: (host: string, cert: Parameters<typeof checkServerIdentity>[1]) => checkServerIdentity(byIp.get(host) ?? host, cert),
      },
    },
  }
}

async function withCluster<T>(sandbox: E2eSandbox, material: Material, use: (cluster: Cluster) => Promise<T>): Promise<T> {
  const {seeds, natMap, redisOptions} = await tlsConnection(sandbox, material)
  const cluster = new Cluster(seeds, {scaleReads: 'master', natMap, redisOptions: {...redisOptions, maxRetriesPerRequest: 5}})
  try {
    return await use(cluster)
  } finally {
    cluster.disconnect()
  }
}

async function missingKeys(sandbox: E2eSandbox, material: Material): Promise<number> {
  return withCluster(sandbox, material, async (cluster) => {
    let missing = 0
    for (let start = 0; start < KEYS; start += 5000) {
      const batch = Array.from({length: Math.min(5000, KEYS - start)}, (_, j) => start + j)
      const got = await Promise.all(batch.map((i) => cluster.get(`key:${i}`)))
      got.forEach((v, j) => {
        if (v !== value(batch[j])) missing++
      })
    }
    return missing
  })
}

async function redisCliTlsCheck(sandbox: E2eSandbox, material: Material): Promise<{ok: boolean; output: string}> {
  const [first] = await pods(sandbox, SELECTOR)
  const got = await redisCli(['--tls', '--cacert', join(material.dir, 'ca.crt'), '--cert', join(material.dir, 'tls.crt'), '--key', join(material.dir, 'tls.key'),
    '--cluster', 'check', `${first.ip}:6379`])
  return {ok: got.code === 0 && got.stdout.includes('[OK] All 16384 slots covered') && !got.stdout.includes('[ERR]'), output: got.stdout + got.stderr}
}

/** What a fresh TLS handshake with the node shows and whether it then answers PING: +PONG, or the error it ended with. */
function handshake(host: string, options: ConnectionOptions): Promise<{answer?: string; error?: string; fingerprint?: string}> {
  return new Promise((resolve) => {
    const socket = connect({host, port: 6379, ...options})
    let fingerprint: string | undefined
    const done = (outcome: {answer?: string; error?: string}): void => {
      socket.destroy()
      resolve({...outcome, fingerprint})
    }
    socket.setTimeout(5000, () => done({error: 'timeout'}))
    socket.once('secureConnect', () => {
      fingerprint = socket.getPeerX509Certificate()?.fingerprint256
      socket.write('PING\r\n')
    })
    socket.once('data', (data: Buffer) => done({answer: data.toString().trim()}))
    socket.once('error', (error: Error) => done({error: error.message}))
    socket.once('close', () => done({error: 'closed'}))
  })
}

/**
 * The sandbox with every output of the CLI kept (stdout and stderr, --json or text), and those of the helpers that run
 * it (statusNodes), so that the file can show at its end that none of them held a private key.
 */
function recordingOutputs(sandbox: E2eSandbox, outputs: string[]): E2eSandbox {
  return {
    ...sandbox,
    cli: async (args, options) => {
      const got = await sandbox.cli(args, options)
      outputs.push(`redisctl ${args.join(' ')}\n${got.stdout}\n${got.stderr}`)
      return got
    },
  }
}

/** The lines of a PEM private key's body: any of them in a text means the key leaked. */
const keyBody = (pem: string): string[] => pem.split('\n').filter((l) => l && !l.startsWith('-----'))

/** Every process of this machine whose arguments or environment could be read, with both as text. */
async function everyProcess(): Promise<Array<{pid: string; text: string}>> {
  const found = []
  for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')
    found.push({pid, text: `${cmdline}\n${environ}`})
  }
  return found
}

describe('redisctl on a TLS cluster (cluster create --tls, 3x1)', () => {
  let sandbox: E2eSandbox
  let material: Material
  let files: string
  const outputs: string[] = []
  /** Every private key this file saw (node keys before and after rotation, the CA's, the user's): none may be printed. */
  const privateKeys: string[] = []

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 'redisctl-tls-'))
    sandbox = recordingOutputs(await startE2eSandbox({podIpOctet: 46}), outputs)
    const created = await sandbox.cli(['cluster', 'create', '--tls', '--masters', '3', '--json'], {timeoutMs: 150_000})
    if (created.code !== 0) throw new Error(`create --tls failed: ${created.stdout}${created.stderr}`)
    material = await secretMaterial(sandbox, files)
    privateKeys.push(material.key)
    await withCluster(sandbox, material, async (cluster) => {
      for (let start = 0; start < KEYS; start += 5000) {
        await Promise.all(Array.from({length: Math.min(5000, KEYS - start)}, (_, j) => cluster.set(`key:${start + j}`, value(start + j))))
      }
    })
  }, 240_000)

  afterAll(async () => {
    await sandbox?.down()
    await rm(files, {recursive: true, force: true})
  })

  it('keeps the CA and a node certificate for every pod\'s DNS name in a Secret of cert-manager\'s layout, and the StatefulSet remembers it', async () => {
    const cert = new X509Certificate(material.cert)
    expect(cert.checkIssued(new X509Certificate(material.ca))).toBe(true)
    expect(cert.checkHost(`redis-cluster-9.${HEADLESS}`)).toBe(`*.${HEADLESS}`)
    expect(cert.checkHost(`redis-cluster-0.${HEADLESS}.cluster.local`)).toBeDefined()
    expect(cert.checkHost('redis-cluster.default.svc')).toBe('redis-cluster.default.svc')
    const sts = await sandbox.kubectl(['get', 'statefulset', 'redis-cluster', '-o', 'jsonpath={.metadata.annotations.redisctl\\.io/tls-secret}'])
    expect(sts.stdout).toBe('redis-cluster-tls')
  })

  it('serves TLS only: redis-cli --tls --cluster check passes, and a plaintext client gets no answer', async () => {
    const check = await redisCliTlsCheck(sandbox, material)
    expect(check.ok, check.output).toBe(true)
    const [first] = await pods(sandbox, SELECTOR)
    const plain = await redisCli(['-h', first.ip!, '-p', '6379', 'PING'])
    expect(plain.stdout).not.toContain('PONG')
  }, 60_000)

  it('refuses a client that trusts another CA, and a client showing a certificate of another CA', async () => {
    const [first] = await pods(sandbox, SELECTOR)
    const servername = `${first.name}.${HEADLESS}`
    const other = await createCertificateAuthority('another CA')
    const otherClient = await issueCertificate(other, {commonName: 'intruder', usages: ['client']})
    const trusted = await handshake(first.ip!, {ca: material.ca, cert: material.cert, key: material.key, servername})
    expect(trusted.answer).toBe('+PONG')
    const wrongTrust = await handshake(first.ip!, {ca: other.cert, cert: material.cert, key: material.key, servername})
    expect(wrongTrust.error).toMatch(/certificate/i)
    const wrongClient = await handshake(first.ip!, {ca: material.ca, cert: otherClient.cert, key: otherClient.key, servername})
    expect(wrongClient.answer).toBeUndefined()
    const otherCaFile = join(files, 'other-ca.crt')
    await writeFile(otherCaFile, other.cert)
    const status = await sandbox.cli(['status', '--tls-ca-file', otherCaFile, '--json'])
    expect(status.code, status.stdout).toBe(7)
    expect(json<{error: {suggestions: string[]}}>(status).error.suggestions.join(' ')).toContain('--tls-ca-secret')
  }, 60_000)

  it('status and check need no TLS flag, directly and through port-forward (or take the CA from --tls-ca-secret); check\'s only security finding is the missing password', async () => {
    const nodes = await statusNodes(sandbox)
    expect(nodes.filter((n) => n.role === 'master')).toHaveLength(3)
    const forwarded = await sandbox.cli(['status', '--connect', 'port-forward', '--json'])
    expect(forwarded.code, forwarded.stdout + forwarded.stderr).toBe(0)
    const givenCa = await sandbox.cli(['status', '--tls-ca-secret', 'redis-cluster-tls', '--json'])
    expect(givenCa.code, givenCa.stdout + givenCa.stderr).toBe(0)
    const check = await sandbox.cli(['check', '--json'])
    expect(check.code, check.stdout + check.stderr).toBe(0)
    expect(json<CheckResult>(check).findings).toEqual([])
    expect(json<CheckResult>(check).security.map((f) => f.code)).toEqual(['no-authentication'])
  }, 90_000)

  it('scale to 4 masters and back to 3 moves slots over TLS and keeps every key; redis-cli --tls --cluster check passes', async () => {
    const out = await sandbox.cli(['scale', '--masters', '4', '--json'], {timeoutMs: 240_000})
    expect(out.code, out.stdout + out.stderr).toBe(0)
    expect(json<{keysMoved: number}>(out).keysMoved).toBeGreaterThan(0)
    expect(await missingKeys(sandbox, material)).toBe(0)
    const back = await sandbox.cli(['scale', '--masters', '3', '--yes', '--json'], {timeoutMs: 240_000})
    expect(back.code, back.stdout + back.stderr).toBe(0)
    expect((await statusNodes(sandbox)).filter((n) => n.role === 'master')).toHaveLength(3)
    expect(await missingKeys(sandbox, material)).toBe(0)
    const check = await redisCliTlsCheck(sandbox, material)
    expect(check.ok, check.output).toBe(true)
  }, 600_000)

  it('repair after every pod was deleted at once and came back at a new IP: exit 0, redis-cli --tls --cluster check passes, every key is there', async () => {
    const before = await pods(sandbox, SELECTOR)
    const ipsBefore = before.map((p) => p.ip!)
    const deleted = await sandbox.kubectl(['delete', 'pods', '-l', SELECTOR, '--wait=false'])
    expect(deleted.code, deleted.stderr).toBe(0)
    await waitFor(`${before.length} new pods with new IPs`, async () => {
      const now = await pods(sandbox, SELECTOR)
      return now.length === before.length && now.every((p) => p.ready && p.ip && !ipsBefore.includes(p.ip))
    }, 90_000)
    const repaired = await sandbox.cli(['repair', '--json'], {timeoutMs: 180_000})
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
    const result = json<{actions: Array<{kind: string}>; refused: unknown[]}>(repaired)
    expect(result.actions.map((a) => a.kind)).toContain('meet')
    expect(result.refused).toEqual([])
    const checked = await sandbox.cli(['check', '--json'])
    expect(checked.code, checked.stdout + checked.stderr).toBe(0)
    const check = await redisCliTlsCheck(sandbox, material)
    expect(check.ok, check.output).toBe(true)
    expect(await missingKeys(sandbox, material)).toBe(0)
  }, 360_000)

  it('tls rotate under a bounded writer: every node serves the new certificate, no restart, no acknowledged write lost, no client error', async () => {
    const before = await pods(sandbox, SELECTOR)
    const connection = await tlsConnection(sandbox, material)
    const traffic = startTraffic(connection.seeds, {opsPerSecond: 200, maxMs: 120_000, connection})
    const rotated = await sandbox.cli(['tls', 'rotate', '--json'], {timeoutMs: 150_000})
    const report = await traffic.stop()
    expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0)
    const result = json<TlsRotateResult>(rotated)
    expect(result.issued).toBe(true)
    expect(result.reloaded).toHaveLength(before.length)
    expect(report.lost).toEqual([])
    expect(report.errors, JSON.stringify(report.errorKinds)).toBe(0)
    expect(report.writesAcknowledged).toBeGreaterThan(0)
    const renewed = await secretMaterial(sandbox, files)
    expect(new X509Certificate(renewed.cert).fingerprint256).toBe(result.fingerprint)
    expect(result.fingerprint).not.toBe(new X509Certificate(material.cert).fingerprint256)
    for (const pod of before) {
      const served = await handshake(pod.ip!, {ca: renewed.ca, cert: renewed.cert, key: renewed.key, servername: `${pod.name}.${HEADLESS}`})
      expect(served.fingerprint, pod.name).toBe(result.fingerprint)
    }
    const after = await pods(sandbox, SELECTOR)
    expect(after.map((p) => p.uid)).toEqual(before.map((p) => p.uid))
    material = renewed
    privateKeys.push(renewed.key)
    expect(await missingKeys(sandbox, material)).toBe(0)
  }, 240_000)

  it('failover hands a master\'s slots to its replica over TLS (planned: no acknowledged write lost): every key is there', async () => {
    const nodes = await statusNodes(sandbox)
    const master = nodes.find((n) => n.role === 'master' && nodes.some((r) => r.masterPod === n.pod))!
    const out = await sandbox.cli(['failover', master.pod, '--json'], {timeoutMs: 120_000})
    expect(out.code, out.stdout + out.stderr).toBe(0)
    const {promoted} = json<FailoverResult>(out)
    await waitFor(`${master.pod} to follow ${promoted}`, async () => {
      const after = await statusNodes(sandbox)
      return after.find((n) => n.pod === promoted)?.role === 'master' && after.find((n) => n.pod === master.pod)?.masterPod === promoted
    })
    expect(await missingKeys(sandbox, material)).toBe(0)
    const check = await redisCliTlsCheck(sandbox, material)
    expect(check.ok, check.output).toBe(true)
  }, 180_000)

  it('no private key, the node\'s nor the CA\'s, is in any process\'s arguments or environment (redis-server, the sandbox, everything running)', async () => {
    const caKey = await secretValue(sandbox, 'redis-cluster-tls-ca', 'tls.key')
    expect(caKey).toContain('PRIVATE KEY')
    privateKeys.push(caKey)
    const secrets = [material.key, caKey].flatMap((key) => [...keyBody(key), Buffer.from(key).toString('base64').slice(0, 60)])
    const servers = (await everyProcess()).filter((p) => p.text.includes('redis-server'))
    expect(servers.length).toBeGreaterThan(0)
    for (const process of await everyProcess()) {
      for (const secret of secrets) expect(process.text.includes(secret), `process ${process.pid}`).toBe(false)
    }
    for (const server of servers) expect(server.text, `redis-server ${server.pid}`).not.toContain('PRIVATE KEY')
  })

  it('create --tls over the running cluster changes nothing, and create without the flag keeps it TLS', async () => {
    // --timeout inside the test's bound: a wait that does not end says what it waited for.
    const again = await sandbox.cli(['cluster', 'create', '--tls', '--masters', '3', '--timeout', '100s', '--json'], {timeoutMs: 120_000})
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(json<{alreadyFormed: boolean}>(again).alreadyFormed).toBe(true)
    const plainAgain = await sandbox.cli(['cluster', 'create', '--masters', '3', '--timeout', '100s', '--json'], {timeoutMs: 120_000})
    expect(plainAgain.code, plainAgain.stdout + plainAgain.stderr).toBe(0)
    const conf = await sandbox.kubectl(['get', 'configmap', 'redis-cluster-config', '-o', 'jsonpath={.data.redis\\.conf}'])
    expect(conf.stdout).toContain('tls-port 6379')
    expect((await secretMaterial(sandbox, files)).cert).toBe(material.cert)
  }, 300_000)

  it.each([
    {connect: 'direct', how: 'its writer follows the deleted master to its new IP by the DNS name the node announces'},
    {connect: 'port-forward', how: 'its writer reaches each node through a port-forward to the pod whose DNS name it announces, verified by that name, and the deleted master again at its new IP'},
  ])('drill failover --connect $connect on a TLS cluster: $how; exit 0, no acknowledged write lost, every key there', async ({connect}) => {
    const before = await pods(sandbox, SELECTOR)
    const drill = await sandbox.cli(['drill', 'failover', '--connect', connect, '--yes', '--json', '--timeout', '180s'], {timeoutMs: 240_000})
    expect(drill.code, drill.stdout + drill.stderr).toBe(0)
    const report = json<DrillFailoverResult>(drill)
    console.log(`drill failover on TLS (${connect}) of ${report.pod}: ${JSON.stringify(report)}`)
    expect(report).toMatchObject({connect, writesLost: 0, staleReads: 0})
    expect(report.writesAcknowledged).toBeGreaterThan(50)
    const ipOf = (list: typeof before): string | undefined => list.find((p) => p.name === report.pod)?.ip
    expect(ipOf(await pods(sandbox, SELECTOR))).not.toBe(ipOf(before))
    expect((await statusNodes(sandbox)).find((n) => n.pod === report.pod)).toMatchObject({membership: 'in-cluster', role: report.returnedAs})
    expect(await missingKeys(sandbox, material)).toBe(0)
    const check = await redisCliTlsCheck(sandbox, material)
    expect(check.ok, check.output).toBe(true)
  }, 300_000)

  it('teardown removes the cluster and the Secrets redisctl made', async () => {
    const down = await sandbox.cli(['teardown', '--yes', '--with-pvcs', '--json'], {timeoutMs: 120_000})
    expect(down.code, down.stdout + down.stderr).toBe(0)
    const secrets = await sandbox.kubectl(['get', 'secrets', '-o', 'name'])
    expect(secrets.stdout).not.toMatch(/redis-cluster-tls/)
  }, 150_000)

  it('cluster create --tls-secret serves the certificate of a Secret the user brings (cert-manager\'s layout, the user\'s own CA): no certificate made, redis-cli --tls --cluster check passes, teardown leaves the Secret', async () => {
    const userCa = await createCertificateAuthority('the user\'s CA')
    const headless = 'redis-cluster-headless.default.svc'
    const node = await issueCertificate(userCa, {commonName: 'redis-cluster', dnsNames: [`*.${headless}`, `*.${headless}.cluster.local`], usages: ['server', 'client']})
    privateKeys.push(userCa.key, node.key)
    // Through apply, the key on stdin: `kubectl create secret` posts protobuf, which the sandbox refuses.
    const data = {'tls.crt': node.cert, 'tls.key': node.key, 'ca.crt': userCa.cert}
    const made = await sandbox.kubectl(['apply', '-f', '-'], JSON.stringify({apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
      metadata: {name: 'redis-certs'}, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))}))
    expect(made.code, made.stderr).toBe(0)

    const created = await sandbox.cli(['cluster', 'create', '--tls-secret', 'redis-certs', '--masters', '3', '--replicas-per-master', '0', '--json'], {timeoutMs: 150_000})
    expect(created.code, created.stdout + created.stderr).toBe(0)
    const redisSecrets = async (): Promise<string[]> => (await sandbox.kubectl(['get', 'secrets', '-o', 'name'])).stdout.split('\n').filter((n) => n.includes('redis'))
    expect(await redisSecrets()).toEqual(['secret/redis-certs'])
    const status = await sandbox.cli(['status', '--json'])
    expect(status.code, status.stdout + status.stderr).toBe(0)
    const user = await secretMaterial(sandbox, await mkdtemp(join(files, 'brought-')), 'redis-certs')
    const check = await redisCliTlsCheck(sandbox, user)
    expect(check.ok, check.output).toBe(true)
    const fingerprint = new X509Certificate(node.cert).fingerprint256
    for (const pod of await pods(sandbox, SELECTOR)) {
      expect((await handshake(pod.ip!, {ca: userCa.cert, cert: node.cert, key: node.key, servername: `${pod.name}.${headless}`})).fingerprint, pod.name).toBe(fingerprint)
    }

    const down = await sandbox.cli(['teardown', '--yes', '--with-pvcs', '--json'], {timeoutMs: 120_000})
    expect(down.code, down.stdout + down.stderr).toBe(0)
    expect(await redisSecrets()).toEqual(['secret/redis-certs'])
  }, 240_000)

  it('no output of the CLI in this file, text or --json, holds a private key (the nodes\', the CA\'s, the user\'s)', () => {
    expect(outputs.length).toBeGreaterThan(10)
    expect(privateKeys.length).toBeGreaterThanOrEqual(5)
    const leaked = outputs.filter((o) => o.includes('PRIVATE KEY') || privateKeys.flatMap(keyBody).some((line) => o.includes(line)))
    expect(leaked.map((o) => o.split('\n')[0])).toEqual([])
  })
})

import {X509Certificate} from 'node:crypto'

import {beforeAll, describe, expect, it} from 'vitest'

import {clusterDnsNames, redisConf, statefulSet, TLS_SECRET_ANNOTATION, type ClusterSpec} from '../../src/manifests/cluster.js'
import type {PemKeyPair} from '../../src/tls/certificates.js'
import {tlsConnectOptions} from '../../src/tls/client.js'
import {createClusterCa, issueNodeCertificate, tlsSecret} from '../../src/tls/cluster-certificates.js'
import {securityFindings, type NodeSecurity} from '../../src/topology/security.js'

const spec: ClusterSpec = {name: 'cache', namespace: 'shop', masters: 3, replicasPerMaster: 1, image: 'redis:7.0', storage: '1Gi', tlsSecret: 'cache-tls'}

describe('the node certificate of a TLS cluster', () => {
  let ca: PemKeyPair
  let node: X509Certificate

  beforeAll(async () => {
    ca = await createClusterCa('cache', 'shop')
    node = new X509Certificate((await issueNodeCertificate(ca, 'cache', 'shop')).cert)
  })

  it('covers every pod under the headless Service, so that scaling needs no new certificate, short and fully qualified', () => {
    expect(node.checkHost('cache-0.cache-headless.shop.svc')).toBe('*.cache-headless.shop.svc')
    expect(node.checkHost('cache-41.cache-headless.shop.svc.cluster.local')).toBe('*.cache-headless.shop.svc.cluster.local')
  })

  it('covers the client Service\'s names', () => {
    for (const name of ['cache', 'cache.shop', 'cache.shop.svc', 'cache.shop.svc.cluster.local']) expect(node.checkHost(name), name).toBe(name)
  })

  it('does not cover pods of another namespace or Service, nor a name one level deeper', () => {
    expect(node.checkHost('cache-0.cache-headless.other.svc')).toBeUndefined()
    expect(node.checkHost('web-0.web-headless.shop.svc')).toBeUndefined()
    expect(node.checkHost('a.cache-0.cache-headless.shop.svc')).toBeUndefined()
  })

  it('is signed by the cluster CA, for servers and clients (bus peers are both), valid for a year', () => {
    expect(node.checkIssued(new X509Certificate(ca.cert))).toBe(true)
    expect(node.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']))
    const days = (new Date(node.validTo).getTime() - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(364)
    expect(days).toBeLessThan(366)
  })

  it('is verified by the pod\'s DNS name while the connection goes to its IP', async () => {
    const pods = new Map([['10.0.0.7:6379', 'cache-2.cache-headless.shop.svc']])
    const options = tlsConnectOptions({ca: ca.cert, source: 'test', serverName: (a) => pods.get(`${a.host}:${a.port}`)}, {host: '10.0.0.7', port: 6379})
    expect(options.servername).toBe('cache-2.cache-headless.shop.svc')
    const peer = {subject: {CN: 'cache.shop'}, subjectaltname: node.subjectAltName} as Parameters<NonNullable<typeof options.checkServerIdentity>>[1]
    expect(options.checkServerIdentity!('10.0.0.7', peer)).toBeUndefined()
    const unnamed = tlsConnectOptions({ca: ca.cert, source: 'test', serverName: () => undefined}, {host: '10.0.0.7', port: 6379})
    expect(unnamed.servername).toBeUndefined()
    expect(unnamed.checkServerIdentity!('10.0.0.7', peer)).toBeInstanceOf(Error)
  })

  it('is kept in cert-manager\'s layout: tls.crt, tls.key, ca.crt', async () => {
    const secret = tlsSecret('cache', 'shop', 'cache-tls', ca.cert, await issueNodeCertificate(ca, 'cache', 'shop'))
    expect(Object.keys(secret.data!).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key'])
    expect(secret.type).toBe('kubernetes.io/tls')
  })
})

describe('the manifests of a TLS cluster', () => {
  it('serve TLS only on the usual port, on the bus and for replication, and prefer announced hostnames', () => {
    const conf = redisConf(spec).split('\n')
    expect(conf).toEqual(expect.arrayContaining(['port 0', 'tls-port 6379', 'tls-cluster yes', 'tls-replication yes', 'cluster-preferred-endpoint-type hostname']))
    expect(conf).not.toContain('port 6379')
  })

  it('mount the Secret, announce each pod\'s DNS name and remember the Secret on the StatefulSet and its pods', () => {
    const sts = statefulSet(spec)
    const container = sts.spec!.template.spec!.containers[0]
    expect(container.command).toEqual(expect.arrayContaining(['--cluster-announce-hostname', '$(POD_NAME).cache-headless.shop.svc']))
    expect(sts.spec!.template.spec!.volumes).toContainEqual({name: 'tls', secret: {secretName: 'cache-tls'}})
    expect(sts.metadata!.annotations![TLS_SECRET_ANNOTATION]).toBe('cache-tls')
    expect(sts.spec!.template.metadata!.annotations![TLS_SECRET_ANNOTATION]).toBe('cache-tls')
    expect(clusterDnsNames('cache', 'shop')[0]).toBe('*.cache-headless.shop.svc')
  })

  it('of a plaintext cluster stay as they were', () => {
    const plain = {...spec, tlsSecret: undefined}
    expect(redisConf(plain)).toContain('port 6379\n')
    expect(redisConf(plain)).not.toContain('tls')
    expect(statefulSet(plain).metadata!.annotations).toBeUndefined()
  })
})

describe('security findings', () => {
  const now = new Date('2026-12-02T12:00:00Z')
  const inDays = (days: number): Date => new Date(now.getTime() + days * 86_400_000)
  const tlsNode = (pod: string, notAfter: Date, fingerprint = 'AA'): NodeSecurity => ({pod, openToAnyone: false, port: 0, tlsPort: 6379, certificate: {fingerprint, notAfter}})
  const codes = (nodes: NodeSecurity[]) => securityFindings(nodes, now, {source: 'Secret cache-tls', fingerprint: 'AA'}).map((f) => `${f.severity} ${f.code} ${f.pods.join(',')}`)

  it('finds nothing on a TLS-only cluster with a password and certificates valid beyond 30 days', () => {
    expect(codes([tlsNode('cache-0', inDays(300)), tlsNode('cache-1', inDays(31))])).toEqual([])
  })

  it('calls a certificate that expires within 30 days a warning, and one already expired an error', () => {
    expect(codes([tlsNode('cache-0', inDays(29)), tlsNode('cache-1', inDays(-1)), tlsNode('cache-2', inDays(90))]))
      .toEqual(['error certificate-expired cache-1', 'warning certificate-expiring cache-0'])
  })

  it('names the nodes that serve another certificate than the Secret\'s', () => {
    expect(codes([tlsNode('cache-0', inDays(300)), tlsNode('cache-1', inDays(300), 'BB')])).toEqual(['warning certificate-not-secret cache-1'])
  })

  it('reports a default user without a password, and a plaintext port open beside TLS', () => {
    expect(codes([{pod: 'cache-0', openToAnyone: true, port: 6380, tlsPort: 6379}])).toEqual(['warning no-authentication cache-0', 'warning plaintext-port cache-0'])
  })

  it('says nothing of what it could not read (an unreachable node, a plaintext cluster\'s certificate)', () => {
    expect(codes([{pod: 'cache-0'}, {pod: 'cache-1', openToAnyone: false, port: 6379, tlsPort: 0}])).toEqual([])
  })
})

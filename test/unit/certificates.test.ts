import {X509Certificate} from 'node:crypto'
import {connect, createServer, type TLSSocket} from 'node:tls'
import type {AddressInfo} from 'node:net'

import {beforeAll, describe, expect, it} from 'vitest'

import {createCertificateAuthority, issueCertificate, type PemKeyPair, selfSignedCertificate} from '../../src/tls/certificates.js'

let ca: PemKeyPair
beforeAll(async () => {
  ca = await createCertificateAuthority('test-ca')
})

/**
 * One TLS handshake on loopback between a server and a client holding the given certificates; resolves with what
 * each side saw of the other.
 */
async function handshake(server: PemKeyPair, client: {ca: string; identity?: PemKeyPair; host: string}): Promise<{clientError?: string; peerCommonName?: string}> {
  const tlsServer = createServer({...server, ca: ca.cert, requestCert: true, rejectUnauthorized: false}, (socket: TLSSocket) => {
    const peer = socket.getPeerCertificate()
    socket.end(socket.authorized ? String(peer.subject?.CN) : '')
  })
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve))
  try {
    return await new Promise((resolve) => {
      const socket = connect({host: client.host, port: (tlsServer.address() as AddressInfo).port, ca: client.ca, ...client.identity})
      let data = ''
      socket.on('data', (d: Buffer) => (data += d))
      socket.on('end', () => resolve({peerCommonName: data || undefined}))
      socket.on('error', (error) => resolve({clientError: error.message}))
    })
  } finally {
    tlsServer.close()
  }
}

describe('certificates', () => {
  it('a CA signs a server certificate that a client trusting the CA accepts for its IP address', async () => {
    const server = await issueCertificate(ca, {commonName: 'node-1', ipAddresses: ['127.0.0.1'], dnsNames: ['node-1'], usages: ['server']})
    const result = await handshake(server, {ca: ca.cert, host: '127.0.0.1'})
    expect(result.clientError).toBeUndefined()
  })

  it('a client certificate signed by the CA names its user to the server', async () => {
    const server = await issueCertificate(ca, {commonName: 'server', ipAddresses: ['127.0.0.1'], usages: ['server']})
    const client = await issueCertificate(ca, {commonName: 'kube-apiserver', organizations: ['system:masters'], usages: ['client']})
    expect(await handshake(server, {ca: ca.cert, identity: client, host: '127.0.0.1'})).toEqual({peerCommonName: 'kube-apiserver'})
  })

  it('a server certificate is refused for an address it does not name', async () => {
    const server = await issueCertificate(ca, {commonName: 'node-1', ipAddresses: ['127.0.0.2'], usages: ['server']})
    const result = await handshake(server, {ca: ca.cert, host: '127.0.0.1'})
    expect(result.clientError).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list: 127\.0\.0\.2/)
  })

  it('a certificate from another CA is not trusted', async () => {
    const other = await createCertificateAuthority('other-ca')
    const server = await issueCertificate(other, {commonName: 'node-1', ipAddresses: ['127.0.0.1'], usages: ['server']})
    expect((await handshake(server, {ca: ca.cert, host: '127.0.0.1'})).clientError).toMatch(/unable to verify|self-signed|issuer/)
  })

  it('a leaf for both usages carries the names, addresses and groups asked for, and is no CA', async () => {
    const leaf = await issueCertificate(ca, {commonName: 'redis-0', organizations: ['redis'], dnsNames: ['redis-0.redis'], ipAddresses: ['127.80.0.1'], usages: ['server', 'client'], validityDays: 30})
    const cert = new X509Certificate(leaf.cert)
    expect(cert.ca).toBe(false)
    expect(cert.subject).toBe('O=redis\nCN=redis-0')
    expect(cert.subjectAltName).toBe('DNS:redis-0.redis, IP Address:127.80.0.1')
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
    expect(cert.verify(new X509Certificate(ca.cert).publicKey)).toBe(true)
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000)
    expect(leaf.key).toMatch(/^-----BEGIN PRIVATE KEY-----/)
  })

  it('the CA is a CA, and a self-signed leaf verifies against itself', async () => {
    expect(new X509Certificate(ca.cert).ca).toBe(true)
    const self = new X509Certificate((await selfSignedCertificate({commonName: 'node', ipAddresses: ['127.0.0.1'], usages: ['server']})).cert)
    expect(self.verify(self.publicKey)).toBe(true)
    expect(self.checkIP('127.0.0.1')).toBe('127.0.0.1')
  })
})

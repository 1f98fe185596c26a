/**
 * X.509 for the project's own TLS: a certificate authority, and leaf certificates for servers, clients or both,
 * with DNS and IP subject alternative names, all as PEM that Node's tls and OpenSSL-based servers read directly.
 * Keys are ECDSA P-256 from Node's webcrypto.
 *
 * Import this module lazily (`await import(...)`) where certificates are made: @peculiar/x509 and the
 * reflect-metadata polyfill its dependency injection needs cost about 0.2 s to load.
 */
import 'reflect-metadata'

import {randomBytes, webcrypto} from 'node:crypto'

import * as x509 from '@peculiar/x509'

/** A certificate and its private key (PKCS#8), both PEM. */
export interface PemKeyPair {
  cert: string
  key: string
}

/** What a leaf certificate may be used for: TLS server, TLS client, or both (a Redis cluster-bus peer is both). */
export type CertificateUsage = 'server' | 'client'

export interface LeafOptions {
  commonName: string
  /** Subject O= entries; Kubernetes reads them as the groups of a client certificate's user. */
  organizations?: string[]
  dnsNames?: string[]
  ipAddresses?: string[]
  usages: CertificateUsage[]
  /** Default 365. */
  validityDays?: number
}

const ALGORITHM = {name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256'}
/** Certificates start a little in the past, so that a peer whose clock is slightly behind accepts them. */
const BACKDATE_MS = 5 * 60_000
const DAY_MS = 86_400_000

/** A self-signed certificate authority that can sign leaf certificates (default validity 10 years). */
export async function createCertificateAuthority(commonName: string, validityDays = 3650): Promise<PemKeyPair> {
  const keys = await generateKeys()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    ...validity(validityDays),
    serialNumber: serialNumber(),
    name: subject(commonName),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  return {cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey)}
}

/** A leaf certificate signed by the authority, for the names and addresses given. */
export async function issueCertificate(authority: PemKeyPair, options: LeafOptions): Promise<PemKeyPair> {
  const caCert = new x509.X509Certificate(authority.cert)
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(authority.key), ALGORITHM, false, ['sign'])
  const keys = await generateKeys()
  const cert = await x509.X509CertificateGenerator.create({
    ...validity(options.validityDays ?? 365),
    serialNumber: serialNumber(),
    subject: subject(options.commonName, options.organizations),
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [...await leafExtensions(keys.publicKey, options), await x509.AuthorityKeyIdentifierExtension.create(caCert)],
  })
  return {cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey)}
}

/** A leaf certificate that signs itself, for a server that has no authority to ask (a kubelet without --tls-cert-file). */
export async function selfSignedCertificate(options: LeafOptions): Promise<PemKeyPair> {
  const keys = await generateKeys()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    ...validity(options.validityDays ?? 365),
    serialNumber: serialNumber(),
    name: subject(options.commonName, options.organizations),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: await leafExtensions(keys.publicKey, options),
  })
  return {cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey)}
}

async function leafExtensions(publicKey: webcrypto.CryptoKey, options: LeafOptions): Promise<x509.Extension[]> {
  const usages = {server: x509.ExtendedKeyUsage.serverAuth, client: x509.ExtendedKeyUsage.clientAuth}
  const names: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({type: 'dns' as const, value})),
    ...(options.ipAddresses ?? []).map((value) => ({type: 'ip' as const, value})),
  ]
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([...new Set(options.usages)].map((u) => usages[u])),
    ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ]
}

const generateKeys = (): Promise<webcrypto.CryptoKeyPair> =>
  webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')
}

const subject = (commonName: string, organizations: string[] = []): x509.JsonName =>
  [...organizations.map((o) => ({O: [o]})), {CN: [commonName]}]

function validity(days: number): {notBefore: Date; notAfter: Date} {
  const now = Date.now()
  return {notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS)}
}

/** 16 random bytes with the top bit clear, so that the DER integer stays positive. */
function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] &= 0x7f
  return bytes.toString('hex')
}

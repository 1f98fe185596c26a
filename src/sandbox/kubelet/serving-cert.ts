import {X509Certificate} from 'node:crypto'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

/**
 * The kubelet's serving certificate when it is given none: as a kubelet without --tls-cert-file does, a
 * self-signed certificate for its node names and addresses, kept in certDir as kubelet.crt and kubelet.key and
 * reused on the next start (made anew when it no longer names every node address).
 */
export async function selfSignedServingCertificate(certDir: string, nodeNames: string[], nodeIps: string[]): Promise<{cert: string; key: string}> {
  const files = {cert: join(certDir, 'kubelet.crt'), key: join(certDir, 'kubelet.key')}
  const kept = await Promise.all([readFile(files.cert, 'utf8'), readFile(files.key, 'utf8')]).catch(() => undefined)
  if (kept && namesEvery(kept[0], nodeIps)) return {cert: kept[0], key: kept[1]}
  const {selfSignedCertificate} = await import('../../tls/certificates.js')
  const made = await selfSignedCertificate({commonName: `${nodeNames[0]}@${Math.floor(Date.now() / 1000)}`, dnsNames: nodeNames, ipAddresses: nodeIps, usages: ['server']})
  await mkdir(certDir, {recursive: true, mode: 0o700})
  await writeFile(files.key, made.key, {mode: 0o600})
  await writeFile(files.cert, made.cert)
  return made
}

function namesEvery(pem: string, ips: string[]): boolean {
  try {
    const cert = new X509Certificate(pem)
    return ips.every((ip) => cert.checkIP(ip) !== undefined)
  } catch {
    return false
  }
}

import type {PemKeyPair} from '../tls/certificates.js'

/** The certificates of one sandbox run, held in memory only and made anew at each start. */
export interface SandboxPki {
  /** The CA that signed the rest: clients trust the API server through it (the kubeconfig's certificate-authority-data),
   * the API server verifies kubelets with it, kubelets authenticate the API server with it. */
  ca: string
  /** The API server's serving certificate. */
  apiserverServing: PemKeyPair
  /** What the API server shows kubelets (kube-apiserver's --kubelet-client-certificate), as kubeadm names it. */
  apiserverKubeletClient: PemKeyPair
  /** The kubelet's serving certificate, for every node's name and InternalIP. */
  kubeletServing: PemKeyPair
}

/** The loopback names an API server of the sandbox is reached by, and the address it listens on. */
const apiserverNames = (host: string): {dnsNames: string[]; ipAddresses: string[]} =>
  ({dnsNames: ['localhost'], ipAddresses: [...new Set([host, '127.0.0.1'])]})

export async function sandboxPki(nodeNames: string[], nodeIps: string[], apiserverHost = '127.0.0.1'): Promise<SandboxPki> {
  const {createCertificateAuthority, issueCertificate} = await import('../tls/certificates.js')
  const ca = await createCertificateAuthority('redisctl-sandbox-ca')
  const [apiserverServing, apiserverKubeletClient, kubeletServing] = await Promise.all([
    issueCertificate(ca, {commonName: 'kube-apiserver', ...apiserverNames(apiserverHost), usages: ['server']}),
    issueCertificate(ca, {commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usages: ['client']}),
    issueCertificate(ca, {commonName: 'redisctl-sandbox-kubelet', dnsNames: nodeNames, ipAddresses: nodeIps, usages: ['server']}),
  ])
  return {ca: ca.cert, apiserverServing, apiserverKubeletClient, kubeletServing}
}

/** A CA and the API server's serving certificate alone, for an API server started without the rest of the sandbox. */
export async function apiserverPki(host: string): Promise<Pick<SandboxPki, 'ca' | 'apiserverServing'>> {
  const {createCertificateAuthority, issueCertificate} = await import('../tls/certificates.js')
  const ca = await createCertificateAuthority('redisctl-sandbox-ca')
  return {ca: ca.cert, apiserverServing: await issueCertificate(ca, {commonName: 'kube-apiserver', ...apiserverNames(host), usages: ['server']})}
}

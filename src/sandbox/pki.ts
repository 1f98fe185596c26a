import type {PemKeyPair} from '../tls/certificates.js'

/** The certificates of one sandbox run, held in memory only and made anew at each start. */
export interface SandboxPki {
  /** The CA that signed the rest: the API server verifies kubelets with it, kubelets authenticate the API server with it. */
  ca: string
  /** What the API server shows kubelets (kube-apiserver's --kubelet-client-certificate), as kubeadm names it. */
  apiserverKubeletClient: PemKeyPair
  /** The kubelet's serving certificate, for every node's name and InternalIP. */
  kubeletServing: PemKeyPair
}

export async function sandboxPki(nodeNames: string[], nodeIps: string[]): Promise<SandboxPki> {
  const {createCertificateAuthority, issueCertificate} = await import('../tls/certificates.js')
  const ca = await createCertificateAuthority('redisctl-sandbox-ca')
  const [apiserverKubeletClient, kubeletServing] = await Promise.all([
    issueCertificate(ca, {commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usages: ['client']}),
    issueCertificate(ca, {commonName: 'redisctl-sandbox-kubelet', dnsNames: nodeNames, ipAddresses: nodeIps, usages: ['server']}),
  ])
  return {ca: ca.cert, apiserverKubeletClient, kubeletServing}
}

import type {Finding} from './check.js'

/** What one node showed of its security: who may connect, which ports it serves, the certificate it presents. */
export interface NodeSecurity {
  pod: string
  /** The default user is on and needs no password: anyone who reaches the pod may read and write. Unknown when unread. */
  openToAnyone?: boolean
  /** Every ACL user the node knows, `default` included (ACL USERS). */
  users?: string[]
  /** The plaintext and TLS ports it listens on (0: off). */
  port?: number
  tlsPort?: number
  /** The certificate a new TLS connection is shown. */
  certificate?: {fingerprint: string; notAfter: Date}
}

/** The certificate of the cluster's TLS Secret, which every node should serve. */
export interface SecretCertificate {
  /** Where it was read: `Secret redis-cluster-tls`. */
  source: string
  fingerprint: string
}

/** Certificates closer than this to their end are reported, so that there is time to rotate. */
export const EXPIRY_WARNING_DAYS = 30
const DAY_MS = 86_400_000

/**
 * Security findings from what the nodes showed: no authentication, a plaintext port open beside TLS, certificates
 * expired (an error: new connections fail) or expiring within 30 days, and nodes serving another certificate than the
 * Secret's (their mount was refreshed but not reloaded: redisctl tls rotate loads it).
 */
export function securityFindings(nodes: readonly NodeSecurity[], now: Date, secret?: SecretCertificate): Finding[] {
  const findings: Finding[] = []
  const add = (code: Finding['code'], severity: Finding['severity'], which: readonly NodeSecurity[], message: (pods: string) => string): void => {
    if (which.length > 0) findings.push({code, severity, message: message(which.map((n) => n.pod).join(', ')), pods: which.map((n) => n.pod)})
  }
  // Open with no other user: no authentication at all (a choice, on a test bed). Open beside ACL users: a hole.
  const open = nodes.filter((n) => n.openToAnyone)
  const besideUsers = open.filter((n) => n.users?.some((u) => u !== 'default'))
  add('no-authentication', 'warning', open.filter((n) => !besideUsers.includes(n)), (pods) =>
    `${pods} let anyone who reaches them read, write and reconfigure: the default user needs no password (cluster create --acl, or --password-secret, makes a cluster that requires one).`)
  add('default-user-nopass', 'error', besideUsers, (pods) =>
    `The default user is on with no password on ${pods}, beside their ACL users: any client gets in without a password. ACL SETUSER default off on each, and check the auth include the pods load.`)
  add('plaintext-port', 'warning', nodes.filter((n) => n.tlsPort && n.port), (pods) =>
    `${pods} serve plaintext next to TLS (port is not 0): traffic on it is not encrypted.`)
  const expired = nodes.filter((n) => n.certificate && n.certificate.notAfter.getTime() <= now.getTime())
  add('certificate-expired', 'error', expired, (pods) =>
    `The certificate of ${pods} expired (${day(expired[0].certificate!.notAfter)}): new TLS connections to them fail (redisctl tls rotate).`)
  const expiring = nodes.filter((n) => n.certificate && !expired.includes(n) && n.certificate.notAfter.getTime() - now.getTime() < EXPIRY_WARNING_DAYS * DAY_MS)
  add('certificate-expiring', 'warning', expiring, (pods) =>
    `The certificate of ${pods} expires on ${day(expiring[0].certificate!.notAfter)}, within ${EXPIRY_WARNING_DAYS} days (redisctl tls rotate).`)
  if (secret) {
    add('certificate-not-secret', 'warning', nodes.filter((n) => n.certificate && n.certificate.fingerprint !== secret.fingerprint), (pods) =>
      `${pods} serve another certificate than the one in ${secret.source}: they have not loaded it yet (redisctl tls rotate loads it without a restart).`)
  }
  return findings
}

const day = (date: Date): string => date.toISOString().slice(0, 10)

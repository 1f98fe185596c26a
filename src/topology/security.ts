import type {Finding} from './check.js'

/** What a node says about who may connect to it (ACL USERS, ACL GETUSER default). */
export interface NodeAuth {
  pod: string
  /** Every ACL user the node knows, `default` included. */
  users: string[]
  defaultUser: {enabled: boolean; nopass: boolean}
}

/**
 * Who may connect, node by node: nobody should get in without a password. A node with no user but `default`, open
 * without a password, has no authentication at all (a choice, on a test bed: a warning); a node of an ACL cluster
 * whose `default` user is on without a password lets anyone past the users it has (an error).
 */
export function securityFindings(nodes: readonly NodeAuth[]): Finding[] {
  const open = nodes.filter((n) => n.defaultUser.enabled && n.defaultUser.nopass)
  const plain = open.filter((n) => n.users.every((u) => u === 'default'))
  const acl = open.filter((n) => !plain.includes(n))
  const findings: Finding[] = []
  if (plain.length > 0) {
    findings.push({code: 'no-authentication', severity: 'warning', pods: plain.map((n) => n.pod),
      message: `${which(plain, nodes)} accept${plain.length === 1 ? 's' : ''} any client without a password: whoever reaches port 6379 may read, write and reconfigure. ` +
        'redisctl cluster create --acl (or --password-secret) makes a cluster that requires one.'})
  }
  if (acl.length > 0) {
    findings.push({code: 'default-user-nopass', severity: 'error', pods: acl.map((n) => n.pod),
      message: `The default user is on with no password on ${which(acl, nodes).toLowerCase()}, beside their ACL users: any client gets in without a password. ` +
        'ACL SETUSER default off on each, and check the auth include the pods load.'})
  }
  return findings
}

const which = (some: readonly NodeAuth[], all: readonly NodeAuth[]): string =>
  some.length === all.length && all.length > 1 ? `Every node (${all.length})` : some.map((n) => n.pod).join(', ')

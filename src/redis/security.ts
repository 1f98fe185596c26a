import type {NodeSecurity} from '../topology/security.js'
import type {NodeAddress, RedisConnector} from './connection.js'

/**
 * What each node shows of its security, all nodes at once. A node that does not answer, or refuses a question (an
 * ACL user without the right), leaves that part unknown: the rest of check reports the node itself.
 */
export async function observeSecurity(connector: RedisConnector, nodes: ReadonlyArray<{pod: string; address: NodeAddress}>): Promise<NodeSecurity[]> {
  return Promise.all(nodes.map(async ({pod, address}): Promise<NodeSecurity> => {
    const seen: NodeSecurity = {pod}
    const client = await connector.client(address).catch(() => undefined)
    if (!client) return seen
    const [users, user, ports, certificate] = await Promise.all([
      client.call('ACL', 'USERS').catch(() => undefined) as Promise<string[] | undefined>,
      client.call('ACL', 'GETUSER', 'default').catch(() => undefined) as Promise<unknown[] | null | undefined>,
      client.call('CONFIG', 'GET', '*port').catch(() => undefined) as Promise<string[] | undefined>,
      connector.peerCertificate(address).catch(() => undefined),
    ])
    if (Array.isArray(users)) seen.users = users.map(String)
    if (Array.isArray(user)) {
      const flags = user[user.indexOf('flags') + 1]
      if (Array.isArray(flags)) seen.openToAnyone = flags.includes('on') && flags.includes('nopass')
    }
    if (ports) {
      const setting = (name: string): number | undefined => {
        const at = ports.indexOf(name)
        return at >= 0 && at % 2 === 0 ? Number(ports[at + 1]) : undefined
      }
      seen.port = setting('port')
      seen.tlsPort = setting('tls-port')
    }
    if (certificate) seen.certificate = {fingerprint: certificate.fingerprint256, notAfter: new Date(certificate.validTo)}
    return seen
  }))
}

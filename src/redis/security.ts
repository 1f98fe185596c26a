import type {NodeAuth} from '../topology/security.js'
import type {NodeAddress, RedisConnector} from './connection.js'

/**
 * Who may connect to each node: its ACL users and whether `default` is on without a password. A node that does not
 * answer, or whose user may not run ACL commands, is left out: check reports the first already, and the second
 * says nothing either way.
 */
export async function observeAuth(connector: RedisConnector, nodes: ReadonlyArray<{pod: string; address: NodeAddress}>): Promise<NodeAuth[]> {
  const answers = await Promise.all(nodes.map(async ({pod, address}): Promise<NodeAuth | undefined> => {
    try {
      const client = await connector.client(address)
      const [users, user] = await Promise.all([client.call('ACL', 'USERS') as Promise<string[]>, client.call('ACL', 'GETUSER', 'default') as Promise<unknown[] | null>])
      const fields = new Map<string, unknown>()
      for (let i = 0; user && i + 1 < user.length; i += 2) fields.set(String(user[i]), user[i + 1])
      const flags = (fields.get('flags') as string[] | undefined) ?? []
      return {pod, users: users.map(String), defaultUser: {enabled: flags.includes('on'), nopass: flags.includes('nopass')}}
    } catch {
      return undefined
    }
  }))
  return answers.filter((a): a is NodeAuth => a !== undefined)
}

import {isSecretSetting} from '../topology/config-settings.js'
import type {NodeAddress} from '../topology/observation.js'
import {commandFailed} from './commands.js'
import type {RedisConnector} from './connection.js'

/** CONFIG GET of settings (or patterns; several in one call, Redis >= 7.0) on one node, by lower-case name; passwords and TLS key files are dropped. */
export async function configGet(connector: RedisConnector, address: NodeAddress, patterns: readonly string[]): Promise<Map<string, string>> {
  const client = await connector.client(address)
  let reply: unknown
  try {
    reply = await client.call('CONFIG', 'GET', ...patterns)
  } catch (error) {
    throw commandFailed(address, `CONFIG GET ${patterns.join(' ')}`, error)
  }
  const pairs = reply as string[]
  const settings = new Map<string, string>()
  for (let i = 0; i + 1 < pairs.length; i += 2) if (!isSecretSetting(pairs[i])) settings.set(pairs[i].toLowerCase(), pairs[i + 1])
  return settings
}

/** CONFIG SET of one setting on one node; Redis's refusal becomes a typed error naming the node. */
export async function configSet(connector: RedisConnector, address: NodeAddress, key: string, value: string): Promise<void> {
  const client = await connector.client(address)
  try {
    await client.call('CONFIG', 'SET', key, value)
  } catch (error) {
    throw commandFailed(address, `CONFIG SET ${key} ${value}`, error)
  }
}

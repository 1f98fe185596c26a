import type {NodeAddress, RedisConnector} from './connection.js'

/** The file settings a node reads its TLS identity and trust from; set to their own values, Redis reads them again. */
const TLS_FILES = ['tls-cert-file', 'tls-key-file', 'tls-ca-cert-file', 'tls-client-cert-file', 'tls-client-key-file'] as const

/**
 * Has the node read its certificate, key and CA files again, in place: `CONFIG SET` of the tls file settings to the
 * paths they already hold. Existing connections keep their session; new ones get the new certificate. A node whose
 * mounted files are half updated refuses the pair (key does not match), keeps serving the old one and is asked again.
 */
export async function reloadTlsFiles(connector: RedisConnector, addr: NodeAddress): Promise<void> {
  const client = await connector.client(addr)
  const reply = await client.call('CONFIG', 'GET', 'tls-*-file') as string[]
  const current = new Map<string, string>()
  for (let i = 0; i + 1 < reply.length; i += 2) current.set(reply[i], reply[i + 1])
  const settings = TLS_FILES.flatMap((name) => (current.get(name) ? [name, current.get(name)!] : []))
  if (settings.length > 0) await client.call('CONFIG', 'SET', ...settings)
}

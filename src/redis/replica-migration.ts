import {pipelinedOk} from './commands.js'
import type {NodeAddress, RedisConnector} from './connection.js'

/**
 * Turns Redis's replica migration on or off on every node. While masters are drained it must be off: a master
 * that gives away its last slot would otherwise turn itself into a replica of the node that took it, and
 * replicas would wander to masters left without one, in the middle of the plan. Only in memory (no CONFIG
 * REWRITE): a restarted pod comes back with its redis.conf, where it is on, Redis's default.
 */
export async function setReplicaMigration(connector: RedisConnector, addresses: readonly NodeAddress[], allowed: boolean): Promise<void> {
  await Promise.all(addresses.map(async (address) => {
    const client = await connector.client(address)
    await pipelinedOk(client, address, [['CONFIG', 'SET', 'cluster-allow-replica-migration', allowed ? 'yes' : 'no']], 'CONFIG SET cluster-allow-replica-migration')
  }))
}

import {waitUntil} from '../util/wait.js'
import {commandFailed} from './commands.js'
import type {NodeAddress, RedisConnector} from './connection.js'
import {observeCluster} from './observe.js'
import type {NodeRef} from './remove-nodes.js'
import {agree, plural} from '../util/words.js'

/** Redis's CLUSTER_MF_TIMEOUT: how long a manual failover may take before the replica gives it up. */
const MANUAL_FAILOVER_TIMEOUT_MS = 5000

export interface FailOverOptions {
  /**
   * FORCE goes without the master (a majority of masters still votes), TAKEOVER also without the vote: both for a
   * master that is gone, and both drop what it had not yet replicated. Absent: the coordinated failover.
   */
  mode?: 'FORCE' | 'TAKEOVER'
}

export interface FailOverReport {
  /** What was sent, in words. */
  actions: string[]
  /** The nodes that named the replica as the new master at the end: those of `everyone` that answered. */
  confirmedBy: number
  /** The nodes asked (`everyone`). */
  asked: number
}

/**
 * Makes the replica its master's master with CLUSTER FAILOVER (the coordinated kind: the master stops writes
 * until the replica has caught up, so no acknowledged write is lost), then waits until every node names the
 * replica as owner of the slots and the old master as its replica (every node that answers: one that is down
 * cannot be waited for, and the report counts it out). Done already when the replica is a master.
 */
export async function failOver(connector: RedisConnector, replica: NodeRef, master: NodeRef, everyone: readonly NodeAddress[], timeoutMs: number,
  options: FailOverOptions = {}): Promise<FailOverReport> {
  const command = ['FAILOVER', ...(options.mode ? [options.mode] : [])]
  const client = await connector.client(replica.address)
  const actions: string[] = []
  let asked = 0
  const askIfStillReplica = async (): Promise<void> => {
    // A manual failover that the master does not confirm in time is dropped silently: ask again after that.
    if (Date.now() - asked < MANUAL_FAILOVER_TIMEOUT_MS) return
    if (String(((await client.call('ROLE')) as unknown[])[0]) === 'master') return
    try {
      await client.call('CLUSTER', ...command)
    } catch (error) {
      throw commandFailed(replica.address, `CLUSTER ${command.join(' ')}`, error)
    }
    asked = Date.now()
    actions.push(`${replica.address.host}: CLUSTER ${command.join(' ')} (takes over from ${master.id})`)
  }
  const confirmedBy = await waitUntil(`${replica.address.host} to take over from its master`, async () => {
    await askIfStillReplica()
    const observation = await observeCluster(connector, everyone)
    const lagging = observation.views.filter((v) => {
      const promoted = v.nodes.find((n) => n.id === replica.id)
      const demoted = v.nodes.find((n) => n.id === master.id)
      return promoted?.role !== 'master' || promoted.slots.length === 0 || (demoted !== undefined && demoted.slots.length > 0)
    })
    return lagging.length === 0 && observation.agreed
      ? {done: true, value: observation.views.length}
      : {done: false, missing: `${plural(lagging.length, 'node')} ${agree(lagging.length, 'does', 'do')} not yet see the new master`}
  }, {timeoutMs, signal: connector.signal})
  return {actions, confirmedBy, asked: everyone.length}
}

/** "all 6 nodes", or "the 5 of 6 nodes that answered": who confirmed a failover, said once and truly. */
export const confirmationWords = (report: Pick<FailOverReport, 'confirmedBy' | 'asked'>): string =>
  report.confirmedBy === report.asked ? `all ${plural(report.asked, 'node')}` : `the ${report.confirmedBy} of ${plural(report.asked, 'node')} that answered`

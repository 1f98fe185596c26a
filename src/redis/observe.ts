import {DeadlinePassed} from '../util/call-bounds.js'
import {onAbort} from '../util/wait.js'
import {connectionError, silentNodeError, type RedisConnector} from './connection.js'
import {parseClusterInfo, parseClusterNodes, parseInfoFields, parseReplication} from './cluster-nodes.js'
import {type ClusterInfo, type ClusterNodeLine, type ClusterObservation, type NodeAddress, type NodeErrorKind, type NodeObservation,
  type NodeView, summarizeObservation} from '../topology/observation.js'

// INFO with several sections needs Redis >= 7.0, which redisctl requires anyway (CLUSTER ADDSLOTSRANGE).
const INFO_SECTIONS = ['keyspace', 'memory', 'replication'] as const

/**
 * Asks every node concurrently, one pipelined round trip each (after the connection exists). When the command's
 * deadline passes (status --timeout bounds the whole command), the nodes that have not answered yet are reported
 * as not answering rather than waited for.
 */
export async function observeCluster(connector: RedisConnector, addresses: readonly NodeAddress[]): Promise<ClusterObservation> {
  const nodes = await Promise.all(addresses.map((address) => byDeadline(observeNode(connector, address), address, connector.signal)))
  return summarizeObservation(nodes)
}

/** The node's observation, or the node as silent once `signal` aborts for a DeadlinePassed. A stop (Ctrl-C) is the steps' to handle. */
async function byDeadline(observing: Promise<NodeObservation>, address: NodeAddress, signal: AbortSignal | undefined): Promise<NodeObservation> {
  if (!signal) return observing
  const cleanups: Array<() => void> = []
  try {
    const first = await Promise.race([observing, onAbort(signal, cleanups)])
    if (first !== 'stopped') return first
  } finally {
    for (const cleanup of cleanups) cleanup()
  }
  const reason: unknown = signal.reason
  if (!(reason instanceof DeadlinePassed)) return observing
  return {address, ok: false, error: {kind: 'unreachable', message: silentNodeError(address, reason.timeoutMs).message}}
}

export async function observeNode(connector: RedisConnector, address: NodeAddress): Promise<NodeObservation> {
  try {
    const client = await connector.client(address)
    const replies = await client.pipeline()
      .call('CLUSTER', 'NODES')
      .call('CLUSTER', 'INFO')
      .call('INFO', ...INFO_SECTIONS)
      .call('CONFIG', 'GET', 'cluster-allow-replica-migration')
      .call('CONFIG', 'GET', 'cluster-node-timeout')
      .exec()
    if (!replies) throw new Error('the pipeline was not executed')
    const [nodesReply, infoReply, serverInfo] = replies.slice(0, 3).map(([error, reply]) => {
      if (error) throw error
      return String(reply)
    })
    const [configError, config] = replies[3]
    const replicaMigration = configError ? undefined : (config as string[])[1] === 'yes'
    const [timeoutError, timeout] = replies[4]
    const nodeTimeoutMs = timeoutError ? undefined : Number((timeout as string[])[1])
    const view = toView(address, parseClusterNodes(nodesReply), parseClusterInfo(infoReply), serverInfo)
    return {address, ok: true, view: {...view, replicaMigration, nodeTimeoutMs}}
  } catch (error) {
    return {address, ok: false, error: classify(error, address, connector)}
  }
}

function toView(address: NodeAddress, nodes: ClusterNodeLine[], info: ClusterInfo, serverInfo: string): NodeView {
  const myself = nodes.find((n) => n.myself)
  if (!myself) throw new Error('CLUSTER NODES has no line flagged myself')
  const fields = parseInfoFields(serverInfo)
  let keys = 0
  for (const [key, value] of fields) {
    if (/^db\d+$/.test(key)) keys += Number(/keys=(\d+)/.exec(value)?.[1] ?? 0)
  }
  return {
    address,
    id: myself.id,
    myself,
    nodes,
    info,
    keys,
    usedMemory: Number(fields.get('used_memory') ?? 0),
    maxMemory: Number(fields.get('maxmemory') ?? 0),
    replication: parseReplication(fields),
  }
}

function classify(error: unknown, address: NodeAddress, connector: RedisConnector): {kind: NodeErrorKind; message: string} {
  const message = error instanceof Error ? error.message : String(error)
  // A node that took the connection and then said nothing (stopped, or its IP blackholed) did not answer.
  if (/Command timed out/.test(message)) return {kind: 'unreachable', message: connectionError(address, error, connector.commandTimeoutMs).message}
  if (error instanceof Error && error.name === 'AuthFailedError') return {kind: 'authFailed', message}
  // Also when the connection's own handshake met it, so before the unreachable case.
  if (/\bLOADING Redis is loading\b/.test(message)) return {kind: 'loading', message}
  if (error instanceof Error && error.name === 'RedisUnreachableError') return {kind: 'unreachable', message}
  if (/cluster support disabled/i.test(message)) return {kind: 'clusterDisabled', message}
  if (/NOAUTH|WRONGPASS/.test(message)) return {kind: 'authFailed', message}
  if (/ECONNREFUSED|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|Connection is closed|timed out/i.test(message)) return {kind: 'unreachable', message}
  return {kind: 'failed', message}
}

import {PreconditionError} from '../errors.js'
import {formatRanges} from '../topology/slots.js'
import {waitUntil} from '../util/wait.js'
import {commandFailed, pipelined, pipelinedOk} from './commands.js'
import {addressKey, type NodeAddress, type RedisConnector} from './connection.js'
import {observeCluster, observeNode} from './observe.js'
import {observationError} from '../topology/observation.js'
import {agree, plural} from '../util/words.js'

/** A cluster node by where it listens and its id. */
export interface NodeRef {
  address: NodeAddress
  id: string
}

/**
 * Has every node that stays forget the given ids, all nodes at once: a forgotten id is banned for 60 s on the
 * node that forgot it, so every node must forget within that window or gossip from one that has not yet
 * teaches the others again. Every node's own view is read first, and nothing is sent when any view shows one of
 * the ids owning slots, or a node that stays still replicating one. A node that does not know an id any more
 * counts as done. Returns what was sent.
 */
export async function forgetNodes(connector: RedisConnector, staying: readonly NodeAddress[], ids: readonly string[]): Promise<string[]> {
  const gone = new Set(ids)
  const observation = await observeCluster(connector, staying)
  const views = observation.nodes.map((node) => {
    if (!node.ok) throw observationError(node)
    return node.view
  })
  const owner = views.flatMap((v) => v.nodes).find((line) => gone.has(line.id) && line.slots.length > 0)
  if (owner) {
    throw new PreconditionError(`Node ${owner.id} (${owner.host}:${owner.port}) owns slots ${formatRanges(owner.slots)} in some node's view, so it was not forgotten.`, [
      'Run redisctl check, then the same command again once the slot map has settled.',
    ])
  }
  for (const view of views) {
    if (gone.has(view.id)) throw new PreconditionError(`${addressKey(view.address)} is itself one of the nodes to forget.`)
    if (view.myself.masterId && gone.has(view.myself.masterId)) {
      throw new PreconditionError(`${addressKey(view.address)} still replicates ${view.myself.masterId}, which is to be forgotten.`, [
        'Its replica must follow a master that stays first; run the same command again.',
      ])
    }
  }
  const sent = await Promise.all(views.map(async (view) => {
    const known = view.nodes.filter((n) => !n.myself && gone.has(n.id)).map((n) => n.id)
    const replies = await pipelined(await connector.client(view.address), view.address, known.map((id) => ['CLUSTER', 'FORGET', id]))
    replies.forEach((reply, i) => {
      if (!reply.ok && !/unknown node/i.test(reply.error.message)) throw commandFailed(view.address, `CLUSTER FORGET ${known[i]}`, reply.error)
    })
    return known.map((id) => `${addressKey(view.address)}: CLUSTER FORGET ${id}`)
  }))
  return sent.flat()
}

/**
 * Leaves the nodes outside any cluster with nothing in them, so that a pod that later comes back on the same
 * volume starts empty instead of rejoining with its old id. CLUSTER RESET HARD gives a new id, no peers and
 * epoch 0, and empties a replica's memory but not its append-only file: on restart the node would load the
 * keys, take the slots they hash to as unassigned ones, and claim them against their owners. So FLUSHALL goes
 * in the same pipeline, which Redis runs back to back, logged to the AOF. A node already alone (reset by an
 * earlier run) is left as it is. Refuses a node that still owns slots or, as a master, holds keys.
 */
export async function resetNodes(connector: RedisConnector, nodes: readonly NodeRef[]): Promise<string[]> {
  const sent = await Promise.all(nodes.map(async ({address, id}) => {
    const node = await observeNode(connector, address)
    if (!node.ok) throw observationError(node)
    const {view} = node
    if (view.nodes.length === 1 && view.myself.slots.length === 0) return []
    if (view.myself.slots.length > 0) {
      throw new PreconditionError(`${addressKey(address)} still owns slots, so it was not reset.`, ['Move its slots away first: redisctl slots reshard --from it --to-all.'])
    }
    if (view.myself.role === 'master' && view.keys > 0) {
      throw new PreconditionError(`${addressKey(address)} is a master without slots that still holds ${plural(view.keys, 'key')}, so it was not reset.`, [
        'Those keys are not served by the cluster; move or delete them by hand first (redisctl repair finishes open slots).',
      ])
    }
    await pipelinedOk(await connector.client(address), address, [['CLUSTER', 'RESET', 'HARD'], ['FLUSHALL']], 'resetting a removed node')
    return [`${addressKey(address)}: CLUSTER RESET HARD, FLUSHALL (was ${id})`]
  }))
  return sent.flat()
}

/** Waits until no node that stays lists any of the ids. */
export async function waitUntilForgotten(connector: RedisConnector, staying: readonly NodeAddress[], ids: readonly string[], timeoutMs: number): Promise<void> {
  const gone = new Set(ids)
  await waitUntil('every node to forget the removed nodes', async () => {
    const observation = await observeCluster(connector, staying)
    const remembering = observation.views.filter((v) => v.nodes.some((n) => !n.myself && gone.has(n.id)))
    return remembering.length === 0 ? {done: true, value: undefined} : {done: false, missing: `${plural(remembering.length, 'node')} still ${agree(remembering.length, 'lists', 'list')} a removed node`}
  }, {timeoutMs, signal: connector.signal})
}

import {PreconditionError} from '../errors.js'
import {rangesToSlots} from '../topology/slots.js'
import {parseClusterNodes} from './cluster-nodes.js'
import {commandFailed, pipelinedOk} from './commands.js'
import {addressKey, type RedisConnector} from './connection.js'
import {drainSlots} from './migrate-keys.js'
import {type MasterRef, MIGRATE_DEFAULTS, migrateSlots, type MigrateOptions} from './migrate-slots.js'
import {plural} from '../util/words.js'

/** No stop signal: finishing open slots is what a stop does last, and it never stops halfway. */
export type OpenSlotsOptions = Omit<MigrateOptions, 'otherMasters' | 'onProgress' | 'signal'>

/** One master's own account of a slot (CLUSTER NODES, its `myself` line) and how many keys it holds there. */
interface SlotView {
  node: MasterRef
  claims: boolean
  migratingTo?: string
  importingFrom?: string
  keys: number
}

/**
 * Completes the slots an interrupted migration left MIGRATING or IMPORTING, the way `redis-cli --cluster fix`
 * does (clusterManagerFixOpenSlot): one owner is settled first (the only node claiming the slot or holding its
 * keys, else the one holding most keys), then
 *  - migrating on one node and importing on one: the move is finished, toward the importing node;
 *  - importing only (nodes holding keys count as importing): their keys go to the owner, which everyone is told;
 *  - migrating on one node, importing on several without keys: finished toward the migrating node's target;
 *  - migrating only: closed when the migrating node owns the slot or holds no keys.
 * Other shapes are refused with an OpenSlotRefusedError (a PreconditionError). Returns the slots it closed.
 * `masters` are all the masters of the cluster.
 */
export async function finishOpenSlots(connector: RedisConnector, masters: readonly MasterRef[], options: OpenSlotsOptions = {}): Promise<number[]> {
  const views = (await Promise.all(masters.map((m) => ownView(connector, m)))).filter((v) => v !== undefined)
  const open = [...new Set(views.flatMap((v) => [...v.migrating.keys(), ...v.importing.keys()]))].sort((a, b) => a - b)
  if (open.length === 0) return []
  const keyCounts = await Promise.all(views.map(async (v) => {
    const client = await connector.client(v.node.address)
    return (await pipelinedOk(client, v.node.address, open.map((s) => ['CLUSTER', 'COUNTKEYSINSLOT', s]), 'CLUSTER COUNTKEYSINSLOT')).map(Number)
  }))
  const slotViews = (index: number): SlotView[] => views.map((v, n) => ({
    node: v.node,
    claims: v.claims.has(open[index]),
    migratingTo: v.migrating.get(open[index]),
    importingFrom: v.importing.get(open[index]),
    keys: keyCounts[n][index],
  }))

  // The common case, one node migrating to one importing with a clear owner, is what an interrupted
  // migrateSlots leaves: finish those together, batched per pair, the rest slot by slot.
  const pairs = new Map<string, {source: MasterRef; target: MasterRef; slots: number[]}>()
  const others: number[] = []
  open.forEach((slot, i) => {
    const c = classify(slotViews(i))
    if (c.owners.length === 1 && c.migrating.length === 1 && c.importing.length === 1) {
      const key = `${c.migrating[0].node.id}>${c.importing[0].node.id}`
      const pair = pairs.get(key) ?? {source: c.migrating[0].node, target: c.importing[0].node, slots: []}
      pair.slots.push(slot)
      pairs.set(key, pair)
    } else {
      others.push(i)
    }
  })
  const everyMaster = views.map((v) => v.node)
  const othersThan = (...nodes: MasterRef[]): MasterRef[] => everyMaster.filter((m) => !nodes.some((n) => n.id === m.id))
  for (const {source, target, slots} of pairs.values()) {
    await migrateSlots(connector, source, target, slots, {...options, otherMasters: othersThan(source, target)})
  }
  for (const i of others) await fixSlot(connector, open[i], slotViews(i), everyMaster, options)
  return open
}

interface OwnView {
  node: MasterRef
  claims: Set<number>
  migrating: Map<number, string>
  importing: Map<number, string>
}

async function ownView(connector: RedisConnector, node: MasterRef): Promise<OwnView | undefined> {
  const client = await connector.client(node.address)
  let reply: string
  try {
    reply = String(await client.call('CLUSTER', 'NODES'))
  } catch (error) {
    throw commandFailed(node.address, 'CLUSTER NODES', error, client)
  }
  const myself = parseClusterNodes(reply).find((l) => l.myself)
  if (!myself || myself.id !== node.id) {
    throw new PreconditionError(`Redis at ${addressKey(node.address)} is node ${myself?.id ?? '(unknown)'}, not ${node.id}.`, [
      'The cluster changed since it was observed; run the command again.',
    ])
  }
  // redis-cli leaves replicas out: a master drained of its last slot may have become one.
  if (myself.role === 'replica') return undefined
  return {
    node,
    claims: new Set(rangesToSlots(myself.slots)),
    migrating: new Map(myself.migrating.map((m) => [m.slot, m.to])),
    importing: new Map(myself.importing.map((m) => [m.slot, m.from])),
  }
}

interface Classified {
  owners: SlotView[]
  migrating: SlotView[]
  importing: SlotView[]
}

function classify(views: SlotView[]): Classified {
  const owners = views.filter((v) => v.claims || v.keys > 0)
  const owner = owners.length === 1 ? owners[0] : undefined
  const migrating = views.filter((v) => v.migratingTo !== undefined)
  // A node holding keys of the slot without claiming it or having it open is treated as importing.
  const importing = views.filter((v) => v.migratingTo === undefined && (v.importingFrom !== undefined || (v !== owner && v.keys > 0)))
  return {owners, migrating, importing}
}

async function fixSlot(connector: RedisConnector, slot: number, views: SlotView[], masters: readonly MasterRef[], options: OpenSlotsOptions): Promise<void> {
  const classified = classify(views)
  const owners = classified.owners
  let {migrating, importing} = classified
  const cmd = async (node: MasterRef, ...args: (string | number)[]): Promise<void> => {
    const client = await connector.client(node.address)
    await pipelinedOk(client, node.address, [args], args.join(' '))
  }
  const owner = owners.length === 1 ? owners[0] : mostKeys(views)
  if (owners.length !== 1) {
    // CLUSTER ADDSLOTS only takes an unassigned slot: drop and re-add it in one transaction.
    await cmd(owner.node, 'CLUSTER', 'SETSLOT', slot, 'STABLE')
    const client = await connector.client(owner.node.address)
    let added: unknown
    try {
      added = (await client.multi().call('CLUSTER', 'DELSLOTS', slot).call('CLUSTER', 'ADDSLOTS', slot).exec())?.[1]?.[0]
    } catch (error) {
      throw commandFailed(owner.node.address, `CLUSTER DELSLOTS/ADDSLOTS ${slot}`, error, client)
    }
    if (added) throw commandFailed(owner.node.address, `CLUSTER ADDSLOTS ${slot}`, added)
    migrating = migrating.filter((v) => v !== owner)
    importing = importing.filter((v) => v !== owner)
  }
  // Every other claimant gives the slot up and imports it from the owner, which the cases below then handle.
  for (const other of owners.filter((v) => v !== owner)) {
    await cmd(other.node, 'CLUSTER', 'DELSLOTS', slot).catch((error: Error) => {
      if (!/already unassigned/.test(error.message)) throw error
    })
    await cmd(other.node, 'CLUSTER', 'SETSLOT', slot, 'NODE', owner.node.id)
    await cmd(other.node, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', owner.node.id)
    importing = [...importing.filter((v) => v !== other), other]
    migrating = migrating.filter((v) => v !== other)
  }
  /** Moves a node's keys of the slot to its owner (MIGRATE needs no ownership of the slot on the sending side). */
  const drainToOwner = async (from: MasterRef): Promise<void> => {
    await drainSlots(await connector.client(from.address, 'migration'), [slot], {
      source: from.address, target: owner.node.address, credentials: connector.credentials,
      keysPerCall: options.keysPerMigrate ?? MIGRATE_DEFAULTS.keysPerMigrate, slotsInFlight: 1,
      timeoutMs: options.migrateTimeoutMs ?? MIGRATE_DEFAULTS.migrateTimeoutMs, replaceOnBusyKey: false,
    })
  }
  const othersThan = (...nodes: MasterRef[]): MasterRef[] => masters.filter((m) => !nodes.some((n) => n.id === m.id))

  if (migrating.length === 1 && importing.length === 1 && importing[0] === owner && migrating[0] !== owner) {
    // The slot was handed to the target (a pod restarted mid-move keeps that in nodes.conf) before the source closed
    // it: the source can no longer migrate it (it is not the owner), so what keys it still has go to the owner as
    // the importing case below moves them, and every node is told the owner.
    const source = migrating[0].node
    if (migrating[0].keys > 0) await drainToOwner(source)
    await cmd(source, 'CLUSTER', 'SETSLOT', slot, 'STABLE')
    for (const node of [owner.node, ...othersThan(owner.node)]) await cmd(node, 'CLUSTER', 'SETSLOT', slot, 'NODE', owner.node.id)
  } else if (migrating.length === 1 && importing.length === 1) {
    const [source, target] = [migrating[0].node, importing[0].node]
    await migrateSlots(connector, source, target, [slot], {...options, otherMasters: othersThan(source, target)})
  } else if (migrating.length === 0 && importing.length > 0) {
    for (const node of importing.map((v) => v.node).filter((n) => n.id !== owner.node.id)) {
      await drainToOwner(node)
      await cmd(node, 'CLUSTER', 'SETSLOT', slot, 'STABLE')
    }
    for (const node of othersThan(owner.node)) await cmd(node, 'CLUSTER', 'SETSLOT', slot, 'NODE', owner.node.id)
  } else if (migrating.length === 1 && importing.length > 1) {
    if (importing.some((v) => v.keys > 0)) throw cannotFix(slot, views)
    const source = migrating[0]
    const target = importing.find((v) => v.node.id === source.migratingTo)
    if (target) await migrateSlots(connector, source.node, target.node, [slot], {...options, otherMasters: othersThan(source.node, target.node)})
    else await cmd(source.node, 'CLUSTER', 'SETSLOT', slot, 'STABLE')
    for (const v of importing.filter((i) => i !== target)) await cmd(v.node, 'CLUSTER', 'SETSLOT', slot, 'STABLE')
  } else if (migrating.length === 1 && importing.length === 0 && (migrating[0] === owner || migrating[0].keys === 0)) {
    await cmd(migrating[0].node, 'CLUSTER', 'SETSLOT', slot, 'STABLE')
  } else {
    throw cannotFix(slot, views)
  }
}

/** The node with most keys in the slot; on a tie, one claiming the slot, then one having it open (redis-cli takes the first). */
function mostKeys(views: SlotView[]): SlotView {
  const rank = (v: SlotView): number => (v.claims ? 2 : 0) + (v.migratingTo || v.importingFrom ? 1 : 0)
  return [...views].sort((a, b) => b.keys - a.keys || rank(b) - rank(a))[0]
}

/** A slot open in a shape that redis-cli --cluster fix does not close either: it needs a person. */
export class OpenSlotRefusedError extends PreconditionError {
  constructor(message: string, suggestions: string[]) {
    super(message, suggestions)
    this.name = 'OpenSlotRefusedError'
  }
}

function cannotFix(slot: number, views: SlotView[]): OpenSlotRefusedError {
  const describe = (v: SlotView): string => `${addressKey(v.node.address)}${v.claims ? ' owner' : ''}${v.migratingTo ? ' migrating' : ''}${v.importingFrom ? ' importing' : ''} ${plural(v.keys, 'key')}`
  return new OpenSlotRefusedError(`Slot ${slot} is open in a way that cannot be closed safely: ${views.filter((v) => v.claims || v.migratingTo || v.importingFrom || v.keys).map(describe).join('; ')}.`, [
    'Inspect the slot on each node (CLUSTER NODES, CLUSTER COUNTKEYSINSLOT) and settle its owner by hand.',
  ])
}

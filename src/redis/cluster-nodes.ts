import {BugError} from '../errors.js'
import type {ClusterInfo, ClusterNodeLine, NodeFlag, ReplicationInfo} from '../topology/observation.js'

const KNOWN_FLAGS: ReadonlySet<string> = new Set<NodeFlag>(['myself', 'master', 'slave', 'fail?', 'fail', 'handshake', 'noaddr', 'nofailover', 'noflags'])

/** Parses the whole reply of CLUSTER NODES (Redis 7.0 format: `id ip:port@cport[,hostname] flags master ping pong epoch link slots...`). */
export function parseClusterNodes(reply: string): ClusterNodeLine[] {
  return reply.split('\n').map((l) => l.trim()).filter((l) => l.length > 0).map(parseClusterNodeLine)
}

export function parseClusterNodeLine(line: string): ClusterNodeLine {
  const fields = line.split(' ')
  if (fields.length < 8) throw new BugError(`Unexpected CLUSTER NODES line (${fields.length} fields): ${line}`)
  const [id, address, flagField, master, ping, pong, epoch, link, ...slotFields] = fields
  const flags = flagField.split(',').filter((f) => KNOWN_FLAGS.has(f)) as NodeFlag[]
  const node: ClusterNodeLine = {
    id,
    ...parseAddress(address, line),
    flags,
    myself: flags.includes('myself'),
    role: flags.includes('slave') ? 'replica' : 'master',
    masterId: master === '-' ? undefined : master,
    pingSentMs: Number(ping),
    pongReceivedMs: Number(pong),
    configEpoch: Number(epoch),
    linkState: link === 'connected' ? 'connected' : 'disconnected',
    slots: [],
    migrating: [],
    importing: [],
  }
  for (const field of slotFields) addSlotField(node, field, line)
  return node
}

function parseAddress(field: string, line: string): {host: string; port: number; busPort: number; hostname?: string} {
  const [endpoint, hostname] = splitOnce(field, ',')
  const [hostPort, busPort] = splitOnce(endpoint, '@')
  // IPv6 addresses contain colons: the port follows the last one.
  const colon = hostPort.lastIndexOf(':')
  if (colon < 0) throw new BugError(`Unexpected address "${field}" in CLUSTER NODES line: ${line}`)
  const port = Number(hostPort.slice(colon + 1))
  return {
    host: hostPort.slice(0, colon),
    port,
    busPort: busPort === undefined ? port + 10000 : Number(busPort),
    ...(hostname ? {hostname} : {}),
  }
}

function addSlotField(node: ClusterNodeLine, field: string, line: string): void {
  if (field.startsWith('[')) {
    const migrating = /^\[(\d+)->-([0-9a-f]+)\]$/.exec(field)
    if (migrating) {
      node.migrating.push({slot: Number(migrating[1]), to: migrating[2]})
      return
    }
    const importing = /^\[(\d+)-<-([0-9a-f]+)\]$/.exec(field)
    if (importing) {
      node.importing.push({slot: Number(importing[1]), from: importing[2]})
      return
    }
  } else {
    const range = /^(\d+)(?:-(\d+))?$/.exec(field)
    if (range) {
      node.slots.push({start: Number(range[1]), end: Number(range[2] ?? range[1])})
      return
    }
  }
  throw new BugError(`Unexpected slot field "${field}" in CLUSTER NODES line: ${line}`)
}

function splitOnce(s: string, separator: string): [string, string | undefined] {
  const i = s.indexOf(separator)
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)]
}

export function parseClusterInfo(reply: string): ClusterInfo {
  const fields = parseInfoFields(reply)
  const num = (key: string): number => Number(fields.get(key) ?? 0)
  return {
    state: fields.get('cluster_state') === 'ok' ? 'ok' : 'fail',
    slotsAssigned: num('cluster_slots_assigned'),
    slotsOk: num('cluster_slots_ok'),
    slotsPfail: num('cluster_slots_pfail'),
    slotsFail: num('cluster_slots_fail'),
    knownNodes: num('cluster_known_nodes'),
    size: num('cluster_size'),
    currentEpoch: num('cluster_current_epoch'),
    myEpoch: num('cluster_my_epoch'),
  }
}

/** `key:value` lines of INFO or CLUSTER INFO; section headers and blank lines are skipped. */
export function parseInfoFields(reply: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const raw of reply.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const [key, value] = splitOnce(line, ':')
    if (value !== undefined) fields.set(key, value)
  }
  return fields
}

/** INFO replication's fields (parsed by parseInfoFields): role, offsets, the link to a replica's master, a master's replicas. */
export function parseReplication(fields: Map<string, string>): ReplicationInfo {
  const num = (value: string | undefined): number => Number(value ?? 0)
  const replicas: ReplicationInfo['replicas'] = []
  for (const [key, value] of fields) {
    if (!/^slave\d+$/.test(key)) continue
    const attrs = new Map(value.split(',').map((kv) => kv.split('=') as [string, string]))
    replicas.push({host: attrs.get('ip') ?? '', port: num(attrs.get('port')), state: attrs.get('state') ?? '', offset: num(attrs.get('offset'))})
  }
  const offset = num(fields.get('master_repl_offset'))
  if (fields.get('role') !== 'slave') return {role: 'master', offset, replicas}
  return {
    role: 'replica',
    offset,
    master: {
      host: fields.get('master_host') ?? '',
      port: num(fields.get('master_port')),
      linkUp: fields.get('master_link_status') === 'up',
      syncInProgress: fields.get('master_sync_in_progress') === '1',
      offset: num(fields.get('slave_repl_offset')),
    },
    replicas,
  }
}

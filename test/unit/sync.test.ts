import {describe, expect, it} from 'vitest'

import {parseInfoFields, parseReplication} from '../../src/redis/cluster-nodes.js'
import {offsetsByAddress, replicaSync, syncProblem, syncState} from '../../src/topology/sync.js'

/** The lines INFO replication ends with on masters and replicas alike: this node's own replication stream. */
const backlog = (offset: number): string => `master_failover_state:no-failover
master_replid:8a3cb0b2a4b6bd9e4ff0a3d0e5a8c1c9f7e6d5c4
master_replid2:0000000000000000000000000000000000000000
master_repl_offset:${offset}
second_repl_offset:-1
repl_backlog_active:1
repl_backlog_size:1048576
repl_backlog_first_byte_offset:1
repl_backlog_histlen:${offset}
`

/** INFO replication of a Redis 7.0 master with one replica at 10.0.0.4, as the server prints it. */
const masterInfo = (offset: number, replica: {state: string; offset: number}): string => `# Replication
role:master
connected_slaves:1
slave0:ip=10.0.0.4,port=6379,state=${replica.state},offset=${replica.offset},lag=0
${backlog(offset)}`

/** INFO replication of the replica at 10.0.0.4 following 10.0.0.1. */
const replicaInfo = (link: 'up' | 'down', syncInProgress: 0 | 1, offset: number, downSince = -1): string => `# Replication
role:slave
master_host:10.0.0.1
master_port:6379
master_link_status:${link}
master_last_io_seconds_ago:${link === 'up' ? 0 : -1}
master_sync_in_progress:${syncInProgress}
slave_read_repl_offset:${offset}
slave_repl_offset:${offset}
${link === 'down' ? `master_link_down_since_seconds:${downSince}\n` : ''}slave_priority:100
slave_read_only:1
replica_announced:1
connected_slaves:0
${backlog(offset)}`

const side = (host: string, info: string) => ({address: {host, port: 6379}, replication: parseReplication(parseInfoFields(info))})
const master = (offset: number, replica: {state: string; offset: number}) => side('10.0.0.1', masterInfo(offset, replica))
const replica = (...args: Parameters<typeof replicaInfo>) => side('10.0.0.4', replicaInfo(...args))

describe('the sync state of a replica, from its INFO and its master\'s', () => {
  it('is in sync when the link is up, no sync runs and its offset is the master\'s', () => {
    expect(syncState(replica('up', 0, 88_213), master(88_213, {state: 'online', offset: 88_213}))).toEqual({state: 'in-sync'})
  })

  it('is syncing while the master waits out the diskless sync delay for it (its link is still down)', () => {
    expect(syncState(replica('down', 0, 0), master(0, {state: 'wait_bgsave', offset: 0}))).toEqual({state: 'syncing'})
  })

  it('is syncing while the replica receives the snapshot', () => {
    expect(syncState(replica('down', 1, 0), master(5_012, {state: 'send_bulk', offset: 0}))).toEqual({state: 'syncing'})
  })

  it('has its link down when it cannot reach its master and no sync runs', () => {
    expect(syncState(replica('down', 0, 4_000, 12), master(5_012, {state: 'online', offset: 5_012}))).toEqual({state: 'link-down'})
    expect(syncState(replica('down', 0, 4_000, 12), undefined)).toEqual({state: 'link-down'})
  })

  it('lags by the bytes its master has sent and it has not applied', () => {
    const lagging = syncState(replica('up', 0, 4_000), master(5_012, {state: 'online', offset: 4_000}))
    expect(lagging).toEqual({state: 'lagging', bytes: 1_012})
    expect(syncProblem(lagging!, 'redis-0')).toBe('lags 1012 bytes behind its master redis-0')
  })

  it('counts as in sync once it has reached the offset its master had at an earlier look, under writes', () => {
    const now = master(5_400, {state: 'online', offset: 5_012})
    expect(syncState(replica('up', 0, 5_012), now, {masterOffsetBefore: 5_012})).toEqual({state: 'in-sync'})
    expect(syncState(replica('up', 0, 5_011), now, {masterOffsetBefore: 5_012})).toEqual({state: 'lagging', bytes: 389})
  })

  it('cannot be confirmed when its link is up but its master did not answer', () => {
    expect(syncState(replica('up', 0, 5_012), undefined)).toEqual({state: 'unconfirmed'})
  })

  it('does not apply to a master', () => {
    expect(syncState(master(5_012, {state: 'online', offset: 5_012}), undefined)).toBeUndefined()
  })
})

describe('a replica caught up under writes, across two looks', () => {
  /** The replica's sync state in an observation of it at `replicaOffset` and its master at `masterOffset`. */
  const lookAt = (replicaOffset: number, masterOffset: number, earlier: ReadonlyMap<string, number>) => {
    const r = replica('up', 0, replicaOffset)
    return replicaSync(r, [master(masterOffset, {state: 'online', offset: replicaOffset}), r], earlier)
  }

  it('counts a replica that lags now but has passed what its master had sent at the look before', () => {
    const earlier = offsetsByAddress([master(5_012, {state: 'online', offset: 5_000})])
    expect(lookAt(5_012, 5_400, earlier)).toEqual({state: 'in-sync'})
    expect(lookAt(5_011, 5_400, earlier)).toEqual({state: 'lagging', bytes: 389})
  })

  it('does not count a lagging replica on the first look, nor one whose link is down', () => {
    expect(lookAt(5_012, 5_400, new Map())).toEqual({state: 'lagging', bytes: 388})
    const down = replica('down', 0, 5_012, 3)
    expect(replicaSync(down, [down], offsetsByAddress([master(5_000, {state: 'online', offset: 5_000})]))).toEqual({state: 'link-down'})
  })

  it('is in sync only with all three: its link up, no sync in progress, and its offset caught up', () => {
    const earlier = offsetsByAddress([master(5_012, {state: 'online', offset: 5_012})])
    const now = master(5_012, {state: 'online', offset: 5_012})
    const inSync = (r: ReturnType<typeof replica>) => replicaSync(r, [now, r], earlier)?.state === 'in-sync'
    expect(inSync(replica('up', 0, 5_012))).toBe(true)
    expect(inSync(replica('down', 0, 5_012, 3))).toBe(false)
    expect(inSync(replica('up', 1, 5_012))).toBe(false)
    expect(inSync(replica('up', 0, 5_011))).toBe(false)
  })

  it('cannot be confirmed when its master did not answer, and does not apply to a master', () => {
    const r = replica('up', 0, 5_012)
    expect(replicaSync(r, [r, {address: {host: '10.0.0.1', port: 6379}}], new Map())).toEqual({state: 'unconfirmed'})
    const m = master(5_012, {state: 'online', offset: 5_012})
    expect(replicaSync(m, [m, r])).toBeUndefined()
  })
})

import {afterEach, describe, expect, it} from 'vitest'

import {RedisConnector} from '../../src/redis/connection.js'
import {observeCluster} from '../../src/redis/observe.js'
import {type RedisNodes, startRedisNodes} from '../support/redis-nodes.js'

const started: RedisNodes[] = []
const connector = new RedisConnector({connectTimeoutMs: 500})

afterEach(async () => {
  await connector.closeAll()
  await Promise.all(started.splice(0).map((n) => n.stop()))
})

async function start(...args: Parameters<typeof startRedisNodes>): Promise<RedisNodes> {
  const nodes = await startRedisNodes(...args)
  started.push(nodes)
  return nodes
}

describe('observing nodes', () => {
  it('reads each node\'s own view, cluster info, keys and memory in one go', async () => {
    const {nodes: [node]} = await start(1)
    const observation = await observeCluster(connector, [node])
    expect(observation.nodes).toHaveLength(1)
    const [view] = observation.views
    expect(view.myself.myself).toBe(true)
    expect(view.id).toMatch(/^[0-9a-f]{40}$/)
    expect(view.info.state).toBe('fail')
    expect(view.keys).toBe(0)
    expect(view.usedMemory).toBeGreaterThan(0)
    expect(view.replication).toEqual({role: 'master', offset: 0, replicas: []})
    expect(observation.uncovered).toEqual([{start: 0, end: 16383}])
  })

  it('keeps the nodes that cannot be read as data, each with why', async () => {
    const [{nodes: [locked]}, {nodes: [plain]}] = await Promise.all([start(1, {password: 'secret'}), start(1, {cluster: false})])
    const nowhere = {host: locked.host.replace(/\.\d+$/, '.250'), port: 6379}
    const observation = await observeCluster(connector, [locked, plain, nowhere])
    expect(observation.nodes.map((n) => (n.ok ? 'ok' : n.error.kind))).toEqual(['authFailed', 'clusterDisabled', 'unreachable'])
    expect(observation.views).toEqual([])
  })
})

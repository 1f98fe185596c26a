import {describe, expect, it} from 'vitest'

import {configuredNodeTimeoutMs, redisConf, type ClusterSpec} from '../../src/manifests/cluster.js'

const spec = (replicasPerMaster: number): ClusterSpec =>
  ({name: 'redis-cluster', namespace: 'default', masters: 3, replicasPerMaster, image: 'redis:7.2', storage: '1Gi'})

describe('the redis.conf cluster create generates', () => {
  it('starts a master\'s full sync as soon as each of its replicas asks, without waiting repl-diskless-sync-delay for more', () => {
    expect(redisConf(spec(1))).toContain('\nrepl-diskless-sync-max-replicas 1\n')
    expect(redisConf(spec(2))).toContain('\nrepl-diskless-sync-max-replicas 2\n')
    expect(redisConf(spec(0))).not.toContain('repl-diskless-sync-max-replicas')
  })

  it('gives the cluster-node-timeout that create restores and check compares with', () => {
    expect(configuredNodeTimeoutMs(redisConf(spec(1)))).toBe(5000)
    expect(configuredNodeTimeoutMs('port 6379\n  cluster-node-timeout 15000 \n')).toBe(15_000)
    expect(configuredNodeTimeoutMs('port 6379\n# cluster-node-timeout 1000\n')).toBe(15_000)
  })
})

import type {V1PodTemplateSpec} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {UsageError} from '../../src/errors.js'
import {CONFIG_ANNOTATION} from '../../src/manifests/cluster.js'
import {changedConfig, changedTemplate, confChanges, parseSettings, RESTARTED_AT} from '../../src/manifests/rollout.js'

const template = (): V1PodTemplateSpec => ({
  metadata: {labels: {app: 'redis'}},
  spec: {containers: [{name: 'exporter', image: 'oliver006/redis_exporter'}, {name: 'redis', image: 'redis:7.0'}]},
})

describe('what a rollout writes', () => {
  it('--image changes the Redis container only', () => {
    const next = changedTemplate(template(), {image: 'redis:7.2'}, undefined)
    expect(next.spec!.containers.map((c) => c.image)).toEqual(['oliver006/redis_exporter', 'redis:7.2'])
  })

  it('--memory and --cpu set request and limit alike', () => {
    const next = changedTemplate(template(), {memory: '2Gi', cpu: '500m'}, undefined)
    expect(next.spec!.containers[1].resources).toEqual({requests: {memory: '2Gi', cpu: '500m'}, limits: {memory: '2Gi', cpu: '500m'}})
  })

  it('restart adds only the restartedAt annotation, as kubectl rollout restart does', () => {
    const next = changedTemplate(template(), {restartedAt: '2026-12-02T12:00:00Z'}, undefined)
    expect(next).toEqual({...template(), metadata: {labels: {app: 'redis'}, annotations: {[RESTARTED_AT]: '2026-12-02T12:00:00Z'}}})
  })

  it('carries redis.conf on the template, so a config change is a new revision', () => {
    expect(changedTemplate(template(), {}, 'port 6379\n').metadata?.annotations).toEqual({[CONFIG_ANNOTATION]: 'port 6379\n'})
  })

  it('--set replaces a directive in place and adds a new one at the end; --memory sets maxmemory to 80%', () => {
    const conf = 'port 6379\nmaxmemory-policy allkeys-lru\nappendonly yes\n'
    expect(changedConfig(conf, {settings: [['maxmemory-policy', 'noeviction'], ['hz', '20']]})).toBe('port 6379\nmaxmemory-policy noeviction\nappendonly yes\nhz 20\n')
    expect(changedConfig(conf, {memory: '100Mi'})).toBe(`port 6379\nmaxmemory-policy noeviction\nappendonly yes\nmaxmemory ${Math.floor(100 * 2 ** 20 * 0.8)}\n`)
  })

  it('says which redis.conf lines a --set changes, as its dry run shows them: each line replaced, added or removed', () => {
    const conf = '# written by redisctl\nport 6379\nmaxmemory-policy allkeys-lru\nappendonly yes\n'
    const after = changedConfig(conf, {settings: [['maxmemory-policy', 'noeviction'], ['hz', '20']]})
    expect(confChanges(conf, after)).toEqual([{before: 'maxmemory-policy allkeys-lru', after: 'maxmemory-policy noeviction'}, {after: 'hz 20'}])
    expect(confChanges(after, conf)).toEqual([{before: 'maxmemory-policy noeviction', after: 'maxmemory-policy allkeys-lru'}, {before: 'hz 20'}])
    expect(confChanges(conf, conf)).toEqual([])
  })

  it('refuses --set of what redisctl manages, and what is not KEY=VALUE', () => {
    expect(() => parseSettings(['dir=/tmp'])).toThrow(UsageError)
    expect(() => parseSettings(['hz'])).toThrow(/not KEY=VALUE/)
    expect(parseSettings(['Maxmemory-Policy=allkeys-lru'])).toEqual([['maxmemory-policy', 'allkeys-lru']])
  })

  it('refuses --set of a password or TLS file (they come from Secrets) and of a per-pod setting, as config set does', () => {
    expect(() => parseSettings(['requirepass=hunter2'])).toThrow(/come from Secrets/)
    expect(() => parseSettings(['tls-key-file=/tmp/k.pem'])).toThrow(/come from Secrets/)
    expect(() => parseSettings(['cluster-announce-hostname=a.example'])).toThrow(/for each pod/)
  })

  it('writes a setting before the auth include, so the include keeps the last word on what it sets', () => {
    expect(changedConfig('port 6379\ninclude /etc/redis-auth/auth.conf\n', {settings: [['hz', '20']]})).toBe('port 6379\nhz 20\ninclude /etc/redis-auth/auth.conf\n')
  })
})

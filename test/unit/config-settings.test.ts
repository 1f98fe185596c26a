import {describe, expect, it} from 'vitest'

import {UsageError} from '../../src/errors.js'
import {configDrift, confSettings, requireLiveSettable, sameValue, withSetting} from '../../src/topology/config-settings.js'

const CONF = 'port 6379\ncluster-enabled yes\ncluster-node-timeout 5000\ndir /data\nmaxmemory-policy noeviction\ninclude /etc/redis-auth/auth.conf\n'

const refusal = (key: string, value = '1'): UsageError => {
  try {
    requireLiveSettable(key, value)
  } catch (error) {
    return error as UsageError
  }
  throw new Error(`expected ${key} to be refused`)
}

describe('which settings redisctl config set takes', () => {
  it('takes a setting Redis changes live', () => {
    expect(() => requireLiveSettable('maxmemory-policy', 'allkeys-lru')).not.toThrow()
  })

  it('refuses a setting Redis 7.0 cannot change while it runs, with the rollout that applies it', () => {
    for (const key of ['cluster-enabled', 'databases', 'daemonize', 'dir', 'appendfilename', 'io-threads']) expect(refusal(key)).toBeInstanceOf(UsageError)
    expect(refusal('databases', '4').suggestions[0]).toContain('redisctl rollout --set databases=4')
  })

  it('refuses passwords and TLS key files, saying they come from Secrets', () => {
    for (const key of ['requirepass', 'masterauth', 'tls-key-file', 'tls-key-file-pass', 'tls-client-key-file', 'tls-ca-cert-file']) {
      expect(refusal(key).message).toContain('come from Secrets')
    }
  })

  it('refuses settings each pod has its own value of', () => {
    expect(refusal('cluster-announce-ip').message).toContain('for each pod')
    expect(refusal('port').message).toContain('for each pod')
  })
})

describe('the redis.conf of the ConfigMap', () => {
  it('reads its settings, leaving out include', () => {
    const settings = confSettings(CONF)
    expect(settings.get('cluster-node-timeout')).toBe('5000')
    expect(settings.has('include')).toBe(false)
  })

  it('replaces a setting where it is', () => {
    expect(withSetting(CONF, 'maxmemory-policy', 'allkeys-lru')).toBe(CONF.replace('noeviction', 'allkeys-lru'))
  })

  it('adds a new setting before the include, which keeps the last word on what it sets', () => {
    const conf = withSetting(CONF, 'slowlog-log-slower-than', '5000')
    expect(conf.split('\n').slice(-3)).toEqual(['slowlog-log-slower-than 5000', 'include /etc/redis-auth/auth.conf', ''])
  })

  it('quotes an empty value so that Redis reads it back as empty', () => {
    const conf = withSetting(CONF, 'save', '')
    expect(conf).toContain('save ""\n')
    expect(confSettings(conf).get('save')).toBe('')
  })

  it('writes a setting of several words as Redis reads it', () => {
    expect(confSettings(withSetting(CONF, 'save', '3600 1 300 100')).get('save')).toBe('3600 1 300 100')
  })
})

describe('check: config-drift', () => {
  const nodes = (values: Record<string, string>) => Object.entries(values).map(([pod, v]) => ({pod, values: new Map([['maxmemory-policy', v], ['cluster-node-timeout', '5000']])}))

  it('finds nothing when every node runs what the ConfigMap says', () => {
    expect(configDrift(confSettings(CONF), nodes({a: 'noeviction', b: 'noeviction'}), 'cm')).toEqual([])
  })

  it('warns naming the node that runs another value than the others', () => {
    const [finding] = configDrift(confSettings(CONF), nodes({a: 'noeviction', b: 'allkeys-lru', c: 'noeviction'}), 'cm')
    expect(finding).toMatchObject({code: 'config-drift', severity: 'warning', pods: ['b']})
    expect(finding.message).toContain('The nodes disagree on maxmemory-policy: a, c run noeviction; b runs allkeys-lru; the ConfigMap cm says noeviction.')
  })

  it('warns when every node agrees on a value the ConfigMap does not have: a restart would change it', () => {
    const [finding] = configDrift(confSettings(CONF), nodes({a: 'allkeys-lru', b: 'allkeys-lru'}), 'cm')
    expect(finding.message).toContain('Every node runs maxmemory-policy allkeys-lru, but the ConfigMap cm says noeviction')
  })

  it('does not compare paths the pods mount differently (dir) or per-pod settings (port)', () => {
    const drifting = [{pod: 'a', values: new Map([['dir', '/var/lib/kubelet/x'], ['port', '7000']])}]
    expect(configDrift(confSettings(CONF), drifting, 'cm')).toEqual([])
  })

  it('leaves a lowered cluster-node-timeout to node-timeout-lowered, and warns about a raised one', () => {
    const timeouts = (b: string) => [{pod: 'a', values: new Map([['cluster-node-timeout', '5000']])}, {pod: 'b', values: new Map([['cluster-node-timeout', b]])}]
    const conf = confSettings(CONF)
    expect(configDrift(conf, timeouts('1000'), 'cm')).toEqual([])
    expect(configDrift(conf, timeouts('9000'), 'cm')).toMatchObject([{code: 'config-drift', pods: ['b']}])
  })

  it('takes memory units as Redis does', () => {
    expect(sameValue('1gb', '1073741824')).toBe(true)
    expect(sameValue('1g', '1073741824')).toBe(false)
  })
})

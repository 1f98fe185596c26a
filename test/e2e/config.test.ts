import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CheckResult} from '../../src/commands/check.js'
import type {ConfigGetResult} from '../../src/commands/config/get.js'
import type {ConfigSetResult} from '../../src/commands/config/set.js'
import {json} from '../support/cli.js'
import {missingKeys, SELECTOR, startClusterWithKeys, statusNodes} from './cluster-data.js'
import {pods, redisCli, waitFor, type E2eSandbox} from './e2e-support.js'

const KEYS = 5_000

describe('redisctl config, on 3x1 with 5,000 keys', () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 56, keys: KEYS})
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  const valuesOf = async (key: string): Promise<Record<string, string>> => {
    const got = await sandbox.cli(['config', 'get', key, '--json'])
    expect(got.code, got.stdout + got.stderr).toBe(0)
    const [setting] = json<ConfigGetResult>(got).settings
    return Object.fromEntries(setting.nodes.map((n) => [n.pod, n.value]))
  }
  const configMap = async (): Promise<string> => (await sandbox.kubectl(['get', 'configmap', 'redis-cluster-config', '-o', 'jsonpath={.data.redis\\.conf}'])).stdout

  it('config set reaches every node and the ConfigMap, and a pod restarted afterwards runs it', async () => {
    const set = await sandbox.cli(['config', 'set', 'maxmemory-policy', 'allkeys-lru', '--json'])

    expect(set.code, set.stdout + set.stderr).toBe(0)
    expect(json<ConfigSetResult>(set)).toMatchObject({key: 'maxmemory-policy', configMapChanged: true})
    expect(Object.values(await valuesOf('maxmemory-policy'))).toEqual(Array(6).fill('allkeys-lru'))
    expect(await configMap()).toContain('\nmaxmemory-policy allkeys-lru\n')

    const replica = (await statusNodes(sandbox)).find((n) => n.role === 'replica')!
    const before = (await pods(sandbox, SELECTOR)).find((p) => p.name === replica.pod)!
    expect((await sandbox.kubectl(['delete', 'pod', replica.pod])).code).toBe(0)
    await waitFor(`${replica.pod} back and in the cluster`, async () => {
      const back = (await pods(sandbox, SELECTOR)).find((p) => p.name === replica.pod)
      if (!back?.ready || back.uid === before.uid) return false
      return (await statusNodes(sandbox)).find((n) => n.pod === replica.pod)?.membership === 'in-cluster'
    }, 90_000)
    expect((await valuesOf('maxmemory-policy'))[replica.pod]).toBe('allkeys-lru')
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 180_000)

  it('run again, changes nothing and exits 0', async () => {
    const again = await sandbox.cli(['config', 'set', 'maxmemory-policy', 'allkeys-lru', '--json'])

    expect(again.code, again.stdout + again.stderr).toBe(0)
    const report = json<ConfigSetResult>(again)
    expect(report.configMapChanged).toBe(false)
    expect(report.nodes.filter((n) => n.changed)).toEqual([])
  }, 60_000)

  it('refuses a setting Redis cannot change while it runs (usage, 2), naming the rollout that applies it; nothing changed', async () => {
    const conf = await configMap()

    const refused = await sandbox.cli(['config', 'set', 'databases', '4'])

    expect(refused.code).toBe(2)
    expect(refused.stderr.replaceAll(/\s*›\s*/g, ' ')).toContain('redisctl rollout --set databases=4')
    expect(Object.values(await valuesOf('databases'))).toEqual(Array(6).fill('16'))
    expect(await configMap()).toBe(conf)
  }, 60_000)

  it('refuses requirepass (usage, 2): passwords come from a Secret, never from the ConfigMap', async () => {
    const refused = await sandbox.cli(['config', 'set', 'requirepass', 'hunter2'])

    expect(refused.code).toBe(2)
    expect(refused.stderr.replaceAll(/\s*›\s*/g, ' ')).toContain('come from Secrets')
    expect(await configMap()).not.toContain('hunter2')
  }, 60_000)

  it('check warns config-drift when a node runs another value than the ConfigMap; config set mends it', async () => {
    const [first] = await pods(sandbox, SELECTOR)
    await redisCli(['-h', first.ip!, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction'])

    const check = await sandbox.cli(['check', '--json'])

    expect(check.code, check.stdout + check.stderr).toBe(0)
    const drift = json<CheckResult>(check).findings.filter((f) => f.code === 'config-drift')
    expect(drift).toEqual([expect.objectContaining({severity: 'warning', pods: [first.name]})])
    expect((await sandbox.cli(['config', 'set', 'maxmemory-policy', 'allkeys-lru'])).code).toBe(0)
    expect(json<CheckResult>(await sandbox.cli(['check', '--json'])).findings.filter((f) => f.code === 'config-drift')).toEqual([])
  }, 90_000)
})

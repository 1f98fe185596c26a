import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CreateResult} from '../../src/commands/cluster/create.js'
import {json, type CliResult} from '../support/cli.js'
import {missingKeys, SELECTOR, writeKeys} from './cluster-data.js'
import {names, pods, startE2eSandbox, type E2eSandbox} from './e2e-support.js'

const KEYS = 20_000

const errorOf = (r: CliResult): {kind: string; message: string; suggestions: string[]; exitCode: number} =>
  json<{error: {kind: string; message: string; suggestions: string[]; exitCode: number}}>(r).error

describe('redisctl cluster create over a cluster that runs: changes nothing, or refuses saying what differs', () => {
  let sandbox: E2eSandbox
  const podUids = async (): Promise<string[]> => (await pods(sandbox, SELECTOR)).map((p) => p.uid)

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 55})
    const created = await sandbox.cli(['cluster', 'create', '--json'], {timeoutMs: 180_000})
    if (created.code !== 0) throw new Error(`create failed: ${created.stdout}${created.stderr}`)
    await writeKeys(sandbox, KEYS)
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: "not-used-yet"}\n'
    const applied = await sandbox.kubectl(['apply', '-f', '-'], secret)
    if (applied.code !== 0) throw new Error(applied.stderr)
  }, 240_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('with --memory, refuses (precondition, 4) naming --memory and how to apply it, its dry run the same, and no pod replaced', async () => {
    const before = await podUids()
    const dry = await sandbox.cli(['cluster', 'create', '--memory', '512Mi', '--dry-run', '--json'])
    const run = await sandbox.cli(['cluster', 'create', '--memory', '512Mi', '--json'])
    expect(run.code, run.stdout + run.stderr).toBe(4)
    expect(dry.code).toBe(4)
    expect(errorOf(dry)).toEqual(errorOf(run))
    expect(errorOf(run).message).toContain('--memory 512Mi (the pods run with none)')
    expect(errorOf(run).suggestions.join(' ')).toContain('redisctl teardown --yes (it keeps the volumes), then this cluster create again')
    expect(await podUids()).toEqual(before)
  }, 120_000)

  it('with --password-secret over pods without a password, refuses (4) naming it, its dry run the same, and no pod replaced', async () => {
    const before = await podUids()
    const dry = await sandbox.cli(['cluster', 'create', '--password-secret', 's', '--dry-run', '--json'])
    const run = await sandbox.cli(['cluster', 'create', '--password-secret', 's', '--json'])
    expect(run.code, run.stdout + run.stderr).toBe(4)
    expect(errorOf(dry)).toEqual(errorOf(run))
    expect(errorOf(run).message).toContain('--password-secret')
    expect(run.stdout).not.toContain('not-used-yet')
    expect(await podUids()).toEqual(before)
    expect(await names(sandbox, 'secrets')).not.toContain('secret/redis-cluster-auth-conf')
  }, 120_000)

  it('with the flags it was made with, changes nothing, and its dry run plans the same objects and masters', async () => {
    const before = await podUids()
    const dry = await sandbox.cli(['cluster', 'create', '--dry-run', '--json'])
    const run = await sandbox.cli(['cluster', 'create', '--json'])
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(dry.code, dry.stdout + dry.stderr).toBe(0)
    const [planned, done] = [json<CreateResult>(dry), json<CreateResult>(run)]
    expect(done).toMatchObject({alreadyFormed: true, changes: 0})
    expect(done.applied.map((o) => o.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged'])
    expect(planned.applied).toEqual(done.applied)
    expect(planned.masters).toEqual(done.masters)
    expect(planned.replicas).toEqual(done.replicas)
    expect(await podUids()).toEqual(before)
  }, 120_000)

  it('-o yaml without --dry-run is a usage error (2) and creates nothing', async () => {
    const before = await names(sandbox, 'statefulsets,services,configmaps,pdb')
    const refused = await sandbox.cli(['cluster', 'create', '--name', 'other', '-o', 'yaml', '--json'])
    expect(refused.code).toBe(2)
    expect(errorOf(refused)).toMatchObject({kind: 'usage', message: expect.stringContaining('--dry-run')})
    expect(await names(sandbox, 'statefulsets,services,configmaps,pdb')).toEqual(before)
  })

  it('--dry-run -o yaml prints only the manifests, without anchors, which kubectl apply --dry-run=client takes; the auth Secret is named on stderr, never its password', async () => {
    const dry = await sandbox.cli(['cluster', 'create', '--name', 'gitops', '--password-secret', 's', '--dry-run', '-o', 'yaml'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout.startsWith('apiVersion: ')).toBe(true)
    expect(dry.stdout).not.toMatch(/[&*]a\d/)
    expect(dry.stdout).not.toContain('Would')
    expect(dry.stderr).toContain('Secret/gitops-auth-conf')
    expect(dry.stdout + dry.stderr).not.toContain('not-used-yet')
    const applied = await sandbox.kubectl(['apply', '--dry-run=client', '-f', '-'], dry.stdout)
    expect(applied.code, applied.stderr).toBe(0)
    expect(applied.stdout.split('\n').filter(Boolean)).toHaveLength(5)
    expect(await names(sandbox, 'statefulsets')).toEqual(['statefulset.apps/redis-cluster'])
  })

  it('after teardown (volumes kept), creates the cluster again at the new pod IPs with every key', async () => {
    const ipsBefore = (await pods(sandbox, SELECTOR)).map((p) => p.ip)
    const down = await sandbox.cli(['teardown', '--yes'])
    expect(down.code, down.stdout + down.stderr).toBe(0)
    const planned = await sandbox.cli(['cluster', 'create', '--dry-run'])
    expect(planned.code, planned.stdout + planned.stderr).toBe(0)
    expect(planned.stdout).toMatch(/The volumes data-redis-cluster-0, .* of an earlier cluster are still there: .* its masters and slots as they were/)
    const again = await sandbox.cli(['cluster', 'create', '--json'], {timeoutMs: 240_000})
    expect(again.code, again.stdout + again.stderr).toBe(0)
    const ipsAfter = (await pods(sandbox, SELECTOR)).map((p) => p.ip)
    expect(ipsAfter.filter((ip) => ipsBefore.includes(ip))).toEqual([])
    const check = await sandbox.cli(['check', '--json'])
    expect(check.code, check.stdout).toBe(0)
    expect(await missingKeys(sandbox, KEYS)).toBe(0)
  }, 300_000)
})

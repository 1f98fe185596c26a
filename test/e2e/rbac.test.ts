import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CheckResult} from '../../src/commands/check.js'
import type {CreateResult} from '../../src/commands/cluster/create.js'
import type {RepairResult} from '../../src/commands/repair.js'
import type {ScaleResult} from '../../src/commands/scale.js'
import type {TeardownOutput} from '../../src/commands/teardown.js'
import {json, type CliResult} from '../support/cli.js'
import {missingKeys, SELECTOR, writeKeys} from './cluster-data.js'
import {pods, startE2eSandbox, waitFor, type E2eSandbox} from './e2e-support.js'

const KEYS = 5000
const NAMESPACE = 'ci'

/**
 * The whole life of a cluster as a CI job lives it: a ServiceAccount of its own namespace, bound to nothing but the
 * Role `redisctl rbac --no-nodes` prints (so Nodes cannot be read), reaching Redis only through port-forwards.
 */
describe('the lifecycle as a ServiceAccount bound only to the Role redisctl rbac prints, through port-forwards', () => {
  let sandbox: E2eSandbox
  /** The sandbox as the job sees it: redisctl runs as the ServiceAccount; kubectl (the test's eyes) as the admin in the job's namespace. */
  let job: E2eSandbox
  const redisctl = (args: string[], timeoutMs = 120_000): Promise<CliResult> => job.cli([...args, '--connect', 'port-forward', '--json'], {timeoutMs})

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 57})
    const account = await sandbox.cli(['sandbox', 'kubeconfig', '--dir', sandbox.dir, '--service-account', 'runner', '-n', NAMESPACE, '--json'])
    if (account.code !== 0) throw new Error(`sandbox kubeconfig failed: ${account.stdout}${account.stderr}`)
    const role = await sandbox.cli(['rbac', '-n', NAMESPACE, '--service-account', 'runner', '--no-nodes'])
    const applied = await sandbox.kubectl(['apply', '-f', '-'], role.stdout)
    if (applied.code !== 0) throw new Error(`kubectl apply of redisctl rbac failed: ${applied.stderr}`)
    const kubeconfig = json<{kubeconfig: string}>(account).kubeconfig
    job = {
      ...sandbox,
      cli: (args, options = {}) => sandbox.cli(args, {...options, env: {...options.env, KUBECONFIG: kubeconfig}}),
      kubectl: (args, input) => sandbox.kubectl([...args, '-n', NAMESPACE], input),
    }
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('the ServiceAccount may not read Nodes, nor anything outside its namespace', async () => {
    const canI = (args: string[]): Promise<CliResult> => sandbox.kubectl(['auth', 'can-i', ...args, '--as', 'system:serviceaccount:ci:runner'])
    expect((await canI(['list', 'nodes'])).stdout.trim()).toBe('no')
    expect((await canI(['list', 'pods', '-n', 'default'])).stdout.trim()).toBe('no')
    expect((await canI(['list', 'pods', '-n', NAMESPACE])).stdout.trim()).toBe('yes')
  })

  it('cluster create forms 3x1 and warns once that zones are unknown, naming the ClusterRole rule that would give them', async () => {
    const created = await redisctl(['cluster', 'create', '--masters', '3', '--replicas-per-master', '1'], 180_000)
    expect(created.code, created.stdout + created.stderr).toBe(0)
    const result = json<CreateResult>(created)
    expect(result).toMatchObject({namespace: NAMESPACE, alreadyFormed: false})
    expect(result.masters).toHaveLength(3)
    const zones = result.warnings.filter((w) => w.includes('zones are unknown'))
    expect(zones).toHaveLength(1)
    expect(zones[0]).toContain('{apiGroups: [""], resources: ["nodes"], verbs: ["list"]}')
    await writeKeys(job, KEYS)
  }, 240_000)

  it('scale --masters 4 moves slots onto the new master, every key kept', async () => {
    const scaled = await redisctl(['scale', '--masters', '4'], 180_000)
    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    expect(json<ScaleResult>(scaled)).toMatchObject({direction: 'out', masters: expect.arrayContaining([expect.objectContaining({pod: 'redis-cluster-6'})])})
    expect(await missingKeys(job, KEYS)).toBe(0)
  }, 240_000)

  it('scale --masters 3 --delete-pvcs moves them back and deletes the removed pods\' claims, every key kept', async () => {
    const scaled = await redisctl(['scale', '--masters', '3', '--delete-pvcs', '--yes'], 180_000)
    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    expect(json<ScaleResult>(scaled)).toMatchObject({direction: 'in', removedPods: ['redis-cluster-6', 'redis-cluster-7']})
    expect(json<ScaleResult>(scaled).pvcs.deleted).toHaveLength(2)
    expect(await missingKeys(job, KEYS)).toBe(0)
  }, 240_000)

  it('repair reconnects the cluster after every pod was deleted at once, every key kept, and check passes', async () => {
    const before = (await pods(job, SELECTOR)).map((p) => p.ip)
    expect((await job.kubectl(['delete', 'pods', '-l', SELECTOR, '--wait=false'])).code).toBe(0)
    await waitFor('6 pods back with new IPs', async () => {
      const now = await pods(job, SELECTOR)
      return now.length === 6 && now.every((p) => p.ready && p.ip && !before.includes(p.ip))
    }, 60_000)
    const repaired = await redisctl(['repair'], 180_000)
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
    expect(json<RepairResult>(repaired).refused).toEqual([])
    const checked = await redisctl(['check'])
    expect(checked.code, checked.stdout).toBe(0)
    expect(json<CheckResult>(checked).errors).toBe(0)
    expect(await missingKeys(job, KEYS)).toBe(0)
  }, 240_000)

  it('teardown --with-pvcs leaves nothing of the cluster in the namespace', async () => {
    const gone = await job.cli(['teardown', '--with-pvcs', '--yes', '--json'], {timeoutMs: 120_000})
    expect(gone.code, gone.stdout + gone.stderr).toBe(0)
    expect(json<TeardownOutput>(gone).nothingToDo).toBe(false)
    const left = await job.kubectl(['get', 'statefulsets,pods,services,configmaps,pvc', '-l', 'app.kubernetes.io/managed-by=redisctl', '-o', 'name'])
    expect(left.stdout.trim()).toBe('')
  }, 180_000)
})

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {TeardownOutput} from '../../src/commands/teardown.js'
import {json} from '../support/cli.js'
import {type E2eSandbox, names, pods, redisCli, startE2eSandbox} from './e2e-support.js'

const SELECTOR = 'app.kubernetes.io/instance=redis-cluster'
const PVCS = ['data-redis-cluster-0', 'data-redis-cluster-1', 'data-redis-cluster-2']
const CREATED = [
  'configmap/redis-cluster-config',
  'poddisruptionbudget.policy/redis-cluster',
  'service/redis-cluster',
  'service/redis-cluster-headless',
  'statefulset.apps/redis-cluster',
]

/** Objects in the namespace that redisctl did not create, one of them even carrying the cluster's instance label. */
const UNRELATED = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: unrelated
  labels: {app.kubernetes.io/instance: redis-cluster}
data: {keep: "me"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
data: {keep: "me too"}
`

describe('redisctl teardown', () => {
  let sandbox: E2eSandbox

  const redisctlObjects = () => names(sandbox, 'statefulsets,services,configmaps,pdb', 'app.kubernetes.io/managed-by=redisctl')

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 242})
    const created = await sandbox.cli(['cluster', 'create', '--replicas-per-master', '0', '--json'])
    if (created.code !== 0) throw new Error(`cluster create failed (${created.code}): ${created.stdout}${created.stderr}`)
    const applied = await sandbox.kubectl(['apply', '-f', '-'], UNRELATED)
    if (applied.code !== 0) throw new Error(applied.stderr)
  })

  afterAll(async () => {
    await sandbox?.down()
  })

  it('without --yes and without a terminal refuses with a usage error (2) and deletes nothing', async () => {
    const refused = await sandbox.cli(['teardown', '--json'])
    expect(refused.code).toBe(2)
    expect(json<{error: {kind: string; message: string}}>(refused).error).toMatchObject({kind: 'usage'})
    expect(json<{error: {message: string}}>(refused).error.message).toContain('without confirmation')
    expect(await redisctlObjects()).toEqual(CREATED)
    expect(await pods(sandbox, SELECTOR)).toHaveLength(3)
  })

  it('--dry-run lists what it would delete and deletes nothing', async () => {
    const dry = await sandbox.cli(['teardown', '--dry-run', '--json'])
    expect(dry.code).toBe(0)
    const plan = json<{dryRun: boolean; deleted: Array<{kind: string; name: string}>; keptPvcs: string[]}>(dry)
    expect(plan.dryRun).toBe(true)
    expect(plan.deleted.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'PodDisruptionBudget', 'Service', 'Service', 'StatefulSet'])
    expect(plan.keptPvcs.sort()).toEqual(PVCS)
    expect(await redisctlObjects()).toEqual(CREATED)
  })

  it('--yes deletes the StatefulSet, Services, ConfigMap, PDB and pods, and keeps the PVCs, naming them', async () => {
    const [pod] = await pods(sandbox, SELECTOR)
    const down = await sandbox.cli(['teardown', '--yes'])
    expect(down.code, down.stderr).toBe(0)
    expect(await redisctlObjects()).toEqual([])
    expect(await pods(sandbox, SELECTOR)).toEqual([])
    expect(await names(sandbox, 'pvc')).toEqual(PVCS.map((p) => `persistentvolumeclaim/${p}`))
    expect(down.stdout).toContain('Kept 3 PersistentVolumeClaims')
    // The step names the kinds found, not a Secret this cluster (no password) never had.
    expect(down.stdout).toContain('✔ Delete the PodDisruptionBudget, Services and ConfigMap\n')
    for (const pvc of PVCS) expect(down.stdout).toContain(pvc)
    // Its redis-servers are gone, not only the pod objects.
    expect((await redisCli(['-h', pod.ip!, 'PING'])).code).not.toBe(0)
  })

  it('leaves alone what redisctl did not create, even with the cluster\'s instance label', async () => {
    expect(await names(sandbox, 'configmaps')).toEqual(expect.arrayContaining(['configmap/plain', 'configmap/unrelated']))
  })

  it('--with-pvcs --yes deletes the PVCs too', async () => {
    const down = await sandbox.cli(['teardown', '--with-pvcs', '--yes', '--json'])
    expect(down.code, down.stderr).toBe(0)
    const result = json<TeardownOutput>(down)
    expect(result.keptPvcs).toEqual([])
    expect(result.alreadyGone).toEqual([])
    expect(result.deleted.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.name).sort()).toEqual(PVCS)
    expect(await names(sandbox, 'pvc')).toEqual([])
  })

  it('of nothing exits 0 and says there is nothing to tear down', async () => {
    const nothing = await sandbox.cli(['teardown', '--yes'])
    expect(nothing.code).toBe(0)
    expect(nothing.stdout).toContain('Nothing to tear down')
    const asJson = await sandbox.cli(['teardown', '--with-pvcs', '--yes', '--json'])
    expect(asJson.code).toBe(0)
    expect(json(asJson)).toMatchObject({nothingToDo: true, deleted: []})
    expect(await names(sandbox, 'configmaps')).toEqual(expect.arrayContaining(['configmap/plain', 'configmap/unrelated']))
  })
})

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CreateResult} from '../../src/commands/cluster/create.js'
import type {ScaleResult} from '../../src/commands/scale.js'
import type {StatusResult} from '../../src/commands/status.js'
import {json, type CliResult} from '../support/cli.js'
import {logKubeRequests} from '../support/kube-requests.js'
import {missingKeys, writeKeys} from './cluster-data.js'
import {names, startE2eSandbox, waitForReadyPods, type E2eSandbox} from './e2e-support.js'
import {handWrittenStatefulSet} from './hand-written.js'

const KEYS = 20_000
const LEGACY = 'app=legacy'

/** A pod of no controller, as `kubectl run` makes one. */
const barePod = `
apiVersion: v1
kind: Pod
metadata:
  name: bare
  labels: {app: bare}
spec:
  containers:
  - name: redis
    image: redis:7.0
    command: ["redis-server"]
    args: ["--port", "6379", "--cluster-enabled", "yes", "--save", "", "--appendonly", "no"]
    ports:
    - {name: redis, containerPort: 6379}
`

const errorOf = (r: CliResult) => json<{error: {kind: string; message: string; suggestions: string[]}}>(r).error

async function statefulSetReplicas(sandbox: E2eSandbox): Promise<Record<string, number>> {
  const got = await sandbox.kubectl(['get', 'statefulsets', '-o', 'json'])
  if (got.code !== 0) throw new Error(got.stderr)
  const items = (JSON.parse(got.stdout) as {items: Array<{metadata: {name: string}; spec: {replicas: number}}>}).items
  return Object.fromEntries(items.map((s) => [s.metadata.name, s.spec.replicas]))
}

async function apply(sandbox: E2eSandbox, manifest: string): Promise<void> {
  const applied = await sandbox.kubectl(['apply', '-f', '-'], manifest)
  if (applied.code !== 0) throw new Error(applied.stderr)
}

describe('a cluster adopted with -l/--selector alone is named after the StatefulSet of its pods', () => {
  let sandbox: E2eSandbox
  let created: CliResult

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 47})
    await apply(sandbox, handWrittenStatefulSet('legacy', 6, {labels: {tier: 'cache'}}))
    await waitForReadyPods(sandbox, LEGACY, 6, 60_000)
    created = await sandbox.cli(['cluster', 'create', '-l', LEGACY, '--timeout', '120'], {timeoutMs: 180_000})
  }, 240_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('cluster create -l app=legacy forms the pods, says "The cluster legacy is formed" and applies nothing', async () => {
    expect(created.code, created.stdout + created.stderr).toBe(0)
    expect(created.stdout).toContain('The cluster legacy is formed: 3 masters, 3 replicas.')
    expect(await names(sandbox, 'statefulsets')).toEqual(['statefulset.apps/legacy'])
    expect(await names(sandbox, 'services,configmaps,secrets', 'app.kubernetes.io/managed-by=redisctl')).toEqual([])
  })

  it('cluster create -l app=legacy again names legacy in its --json result and changes nothing', async () => {
    const again = await sandbox.cli(['cluster', 'create', '-l', LEGACY, '--json'])
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(json<CreateResult>(again)).toMatchObject({name: 'legacy', alreadyFormed: true, changes: 0})
  })

  it('status -l app=legacy names the cluster legacy, in its text and its --json result', async () => {
    const status = await sandbox.cli(['status', '-l', LEGACY, '--json'])
    expect(status.code, status.stdout + status.stderr).toBe(0)
    const body = json<StatusResult>(status)
    expect(body.name).toBe('legacy')
    expect(body.nodes.filter((n) => n.role === 'master')).toHaveLength(3)
    const text = await sandbox.cli(['status', '-l', LEGACY])
    expect(text.stdout).toContain('The cluster legacy in namespace default, cluster_state: ok')
  })

  it.each([
    ['check', ['check']],
    ['slots rebalance --dry-run', ['slots', 'rebalance', '--dry-run']],
  ])('%s -l app=legacy --json names the cluster legacy, as status and scale do', async (_, args) => {
    const run = await sandbox.cli([...args, '-l', LEGACY, '--json'])
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(json<{name?: string}>(run).name).toBe('legacy')
  })

  it.each([
    ['status', ['status']],
    ['check', ['check']],
  ])('%s -l app=legacy asks Kubernetes for the pods once, as it does without -l', async (_, args) => {
    const requests = await logKubeRequests(sandbox.kubeconfig)
    try {
      const run = await sandbox.cli([...args, '-l', LEGACY], {env: {KUBECONFIG: requests.kubeconfig}})
      expect(run.code, run.stdout + run.stderr).toBe(0)
    } finally {
      await requests.close()
    }
    expect(requests.seen.filter((r) => r.startsWith('GET /api/v1/namespaces/default/pods?'))).toEqual([`GET /api/v1/namespaces/default/pods?labelSelector=${LEGACY}`])
  })

  it('scale -l app=legacy --masters 4 (no --name) grows StatefulSet legacy to 8 pods, names legacy and keeps every key written before', async () => {
    await writeKeys(sandbox, KEYS, undefined, LEGACY)
    const scaled = await sandbox.cli(['scale', '-l', LEGACY, '--masters', '4', '--json'], {timeoutMs: 300_000})
    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    const result = json<ScaleResult>(scaled)
    expect(result).toMatchObject({name: 'legacy', direction: 'out'})
    expect(result.masters).toHaveLength(4)
    expect(result.keysMoved).toBeGreaterThan(0)
    expect(await statefulSetReplicas(sandbox)).toEqual({legacy: 8})
    expect(await missingKeys(sandbox, KEYS, undefined, LEGACY)).toBe(0)
  }, 300_000)

  describe('bad input: nothing changed', () => {
    beforeAll(async () => {
      await apply(sandbox, handWrittenStatefulSet('other', 2, {labels: {tier: 'cache'}}))
      await waitForReadyPods(sandbox, 'app=other', 2, 60_000)
    }, 90_000)

    it.each([
      ['scale', ['scale', '--masters', '5']],
      ['status', ['status']],
    ])('%s -l tier=cache, selecting the pods of two StatefulSets, is a usage error (2) naming both and --name', async (_, args) => {
      const refused = await sandbox.cli([...args, '-l', 'tier=cache', '--json'])
      expect(refused.code, refused.stdout + refused.stderr).toBe(2)
      const error = errorOf(refused)
      expect(error.kind).toBe('usage')
      expect(error.message).toContain('belong to 2 StatefulSets, legacy (legacy-0, ')
      expect(error.message).toContain('other (other-0, other-1)')
      expect(error.suggestions.join(' ')).toContain('--name (legacy or other)')
      expect(await statefulSetReplicas(sandbox)).toEqual({legacy: 8, other: 2})
    })

    it('scale --name legacy -l app=other, whose pods are another StatefulSet\'s, is a usage error (2) saying they disagree', async () => {
      const refused = await sandbox.cli(['scale', '--name', 'legacy', '-l', 'app=other', '--masters', '5', '--json'])
      expect(refused.code, refused.stdout + refused.stderr).toBe(2)
      expect(errorOf(refused).message).toContain('--name legacy and -l app=other disagree: the selected pods of StatefulSet other (other-0, other-1) are not legacy\'s')
      expect(await statefulSetReplicas(sandbox)).toEqual({legacy: 8, other: 2})
    })

    it('scale -l app=bare, a pod of no StatefulSet, is refused (4) saying none owns it', async () => {
      await apply(sandbox, barePod)
      await waitForReadyPods(sandbox, 'app=bare', 1, 60_000)
      const refused = await sandbox.cli(['scale', '-l', 'app=bare', '--masters', '4', '--json'])
      expect(refused.code, refused.stdout + refused.stderr).toBe(4)
      expect(errorOf(refused)).toMatchObject({kind: 'precondition'})
      expect(errorOf(refused).message).toContain('No StatefulSet owns the pods selected by -l app=bare: bare (no owner)')
      expect(await statefulSetReplicas(sandbox)).toEqual({legacy: 8, other: 2})
    }, 90_000)

    it('every key of legacy is still there', async () => {
      expect(await missingKeys(sandbox, KEYS, undefined, LEGACY)).toBe(0)
    })
  })
})

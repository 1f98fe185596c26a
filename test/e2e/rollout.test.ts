import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {RolloutResult} from '../../src/cli/rollout.js'
import type {ConfigGetResult} from '../../src/commands/config/get.js'
import {json, runCliKilledAt, type KilledRun} from '../support/cli.js'
import {missingKeys, redisCliCheckPasses, SELECTOR, startClusterWithKeys, statusNodes} from './cluster-data.js'
import {pods, type E2eSandbox} from './e2e-support.js'
import {startTraffic, type TrafficReport} from './traffic-support.js'

/**
 * redisctl rollout, restart and --undo on 3x1 and 3x2 clusters holding keys, against the sandbox's real StatefulSet
 * revisions (ControllerRevisions, controller-revision-hash) and real redis-server pods; and the early stop of a wait
 * for pods.
 */

const KEYS = 100_000

interface Revisions {
  update: string
  /** Each pod's controller-revision-hash, by name. */
  pods: Record<string, string>
}

async function revisions(sandbox: E2eSandbox): Promise<Revisions> {
  const set = await sandbox.kubectl(['get', 'statefulset', 'redis-cluster', '-o', 'json'])
  const list = await sandbox.kubectl(['get', 'pods', '-l', SELECTOR, '-o', 'json'])
  const items = (JSON.parse(list.stdout) as {items: Array<{metadata: {name: string; labels: Record<string, string>}}>}).items
  return {
    update: (JSON.parse(set.stdout) as {status: {updateRevision: string}}).status.updateRevision,
    pods: Object.fromEntries(items.map((p) => [p.metadata.name, p.metadata.labels['controller-revision-hash']])),
  }
}

const onRevision = (r: Revisions, revision: string): string[] => Object.keys(r.pods).filter((p) => r.pods[p] === revision).sort()

async function expectWhole(sandbox: E2eSandbox): Promise<void> {
  const check = await sandbox.cli(['check'])
  expect(check.code, check.stdout + check.stderr).toBe(0)
  expect(await redisCliCheckPasses(sandbox)).toBe(true)
  expect(await missingKeys(sandbox, KEYS)).toBe(0)
}

/**
 * `rollout ARGS` under a bounded cluster client writing and reading throughout: it follows the order its dry run
 * printed (one failover per master), every acknowledged write reads back, no read returns an older value than one
 * already acknowledged, every one of `podCount` pods ends on the update revision and the cluster is whole.
 */
/** The same command once more after a kill: it resumes the roll (template unchanged) and ends with all 6 pods on `update`, every key kept. */
async function expectResumedToTheEnd(sandbox: E2eSandbox, args: string[], update: string): Promise<void> {
  const again = await sandbox.cli([...args, '--json'], {timeoutMs: 300_000})
  expect(again.code, again.stdout + again.stderr).toBe(0)
  expect(json<RolloutResult>(again)).toMatchObject({resumed: true, templateChanged: false, updateRevision: update})
  const after = await revisions(sandbox)
  expect(after.update).toBe(update)
  expect(onRevision(after, after.update)).toHaveLength(6)
  await expectWhole(sandbox)
}

async function expectRolloutUnderTraffic(sandbox: E2eSandbox, args: string[], shape: {masters: number; podCount: number}): Promise<void> {
  const dry = await sandbox.cli(['rollout', ...args, '--dry-run', '--json'])
  expect(dry.code, dry.stdout + dry.stderr).toBe(0)
  const planned = json<RolloutResult>(dry).steps.map((s) => s.description)
  expect(planned.filter((d) => d.startsWith('fail over'))).toHaveLength(shape.masters)

  const seeds = (await pods(sandbox, SELECTOR)).map((p) => ({host: p.ip!, port: 6379}))
  const traffic = startTraffic(seeds, {maxOps: 300_000, maxMs: 600_000})
  const rolled = await sandbox.cli(['rollout', ...args, '--json'], {timeoutMs: 600_000})
  const report: TrafficReport = await traffic.stop()
  console.log(`traffic during rollout of ${shape.podCount} pods: ${report.ops} ops in ${report.seconds.toFixed(1)} s, ${report.writesAcknowledged} writes acknowledged, ` +
    `${report.errors} errors ${JSON.stringify(report.errorKinds)}, ${report.staleReads} stale reads, ${report.lost.length} lost writes, ` +
    `longest write gap ${report.longestWriteGap.ms} ms`)
  expect(rolled.code, rolled.stdout + rolled.stderr).toBe(0)
  const result = json<RolloutResult>(rolled)
  expect(result.steps.map((s) => s.description)).toEqual(planned)

  expect(report.stoppedBy).toBe('caller')
  expect(report.writesAcknowledged).toBeGreaterThan(100)
  expect(report.lost).toEqual([])
  expect(report.staleReads).toBe(0)
  const after = await revisions(sandbox)
  expect(result.updateRevision).toBe(after.update)
  expect(onRevision(after, after.update)).toHaveLength(shape.podCount)
  await expectWhole(sandbox)
}

describe(`rollout of a 3x1 cluster holding ${KEYS.toLocaleString('en')} keys`, () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 53, keys: KEYS})
  }, 180_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('rollout --set --dry-run shows the redis.conf line it would change, and changes nothing', async () => {
    const before = await revisions(sandbox)
    const dry = await sandbox.cli(['rollout', '--set', 'hz=20', '--dry-run'])
    expect(dry.code, dry.stdout + dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/^Would change redis\.conf: ("hz \d+" becomes "hz 20"|add "hz 20")$/m)
    const conf = await sandbox.kubectl(['get', 'configmap', 'redis-cluster-config', '-o', 'jsonpath={.data.redis\\.conf}'])
    expect(conf.stdout).not.toContain('hz 20')
    expect(await revisions(sandbox)).toEqual(before)
  }, 120_000)

  it('rollout --image under a cluster client: the order the dry run printed, every acknowledged write reads back, no stale read, every pod on the update revision', async () => {
    await expectRolloutUnderTraffic(sandbox, ['--image', 'redis:7.0-next'], {masters: 3, podCount: 6})
  }, 700_000)

  it('rollout --image nosuch:1 stops at the first pod naming ErrImagePull, exit 12; --undo brings every pod back to the old revision, every key kept', async () => {
    const before = await revisions(sandbox)
    const bad = await sandbox.cli(['rollout', '--image', 'nosuch:1', '--json'], {timeoutMs: 300_000})
    expect(bad.code, bad.stdout + bad.stderr).toBe(12)
    const error = (JSON.parse(bad.stdout) as {error: {kind: string; message: string}}).error
    expect(error.kind).toBe('podStuck')
    expect(error.message).toMatch(/^Pod redis-cluster-\d will not become Ready: (ErrImagePull|ImagePullBackOff)/)
    const stuck = await revisions(sandbox)
    expect(stuck.update).not.toBe(before.update)
    // Only the pod it stopped at was touched.
    expect(onRevision(stuck, stuck.update)).toEqual([/^Pod (\S+)/.exec(error.message)![1]])

    const undo = await sandbox.cli(['rollout', '--undo', '--json'], {timeoutMs: 300_000})
    expect(undo.code, undo.stdout + undo.stderr).toBe(0)
    expect(json<RolloutResult>(undo).undoTo).toBe(before.update)
    const after = await revisions(sandbox)
    expect(after.update).toBe(before.update)
    expect(onRevision(after, before.update)).toHaveLength(6)
    await expectWhole(sandbox)
  }, 420_000)

  it('restart killed with SIGKILL during a failover: the same command again finishes the roll, every pod on the update revision', async () => {
    const killed = await runCliKilledAt(['restart'], /fail over redis-cluster-\d/, {env: {KUBECONFIG: sandbox.kubeconfig}, timeoutMs: 300_000})
    expect(killed.killed, `expected a kill at a failover, but the CLI ended (${killed.code}):\n${killed.stdout}${killed.stderr}`).toBe(true)
    const halfway = await revisions(sandbox)
    expect(onRevision(halfway, halfway.update).length).toBeLessThan(6)

    await expectResumedToTheEnd(sandbox, ['restart'], halfway.update)
  }, 480_000)

  it('rollout --image killed with SIGKILL right after the template write, while a replica pod restarts, and while a former master restarts after its failover: the same command once more finishes the roll, every pod on the update revision, every key kept', async () => {
    const before = await revisions(sandbox)
    const masters = (await statusNodes(sandbox)).filter((n) => n.role === 'master').map((n) => n.pod)
    const args = ['rollout', '--image', 'redis:7.2-next']
    const killedAt = async (when: RegExp, what: string): Promise<KilledRun> => {
      const run = await runCliKilledAt(args, when, {env: {KUBECONFIG: sandbox.kubeconfig}, timeoutMs: 300_000})
      expect(run.killed, `expected a kill ${what}, but the CLI ended (${run.code}):\n${run.stdout}${run.stderr}`).toBe(true)
      return run
    }

    await killedAt(/Wrote the new pod template/, 'after the template write')
    const written = await revisions(sandbox)
    expect(written.update).not.toBe(before.update)
    expect(onRevision(written, written.update).length).toBeLessThan(6)

    const duringReplica = await killedAt(/waiting for .*redis-cluster-\d+ \((Terminating|Pending|still on revision)/, 'while a replica restarts')
    // Replicas go first: the pod it was restarting is a replica.
    expect(duringReplica.stdout).toMatch(/restart redis-cluster-\d+ \(replica of redis-cluster-\d+\)/)
    expect(duringReplica.stdout).not.toMatch(/fail over/)

    // A pod that was a master restarts only once its failover has made it a replica.
    const duringMaster = await killedAt(new RegExp(`restart (${masters.join('|')}) \\(replica of`), 'while a former master restarts')
    expect(duringMaster.stdout).toMatch(/fail over/)
    const halfway = await revisions(sandbox)
    expect(halfway.update).toBe(written.update)
    expect(onRevision(halfway, halfway.update).length).toBeLessThan(6)

    await expectResumedToTheEnd(sandbox, args, written.update)
  }, 600_000)

  it('a StatefulSet with RollingUpdate: restart refuses without --yes (exit 2, nothing changed), with --yes switches it to OnDelete in the same write and rolls', async () => {
    const patched = await sandbox.kubectl(['patch', 'statefulset', 'redis-cluster', '--type', 'merge', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}}}}'])
    expect(patched.code, patched.stderr).toBe(0)
    const before = await revisions(sandbox)
    const refused = await sandbox.cli(['restart'])
    expect(refused.code, refused.stdout + refused.stderr).toBe(2)
    expect(await revisions(sandbox)).toEqual(before)

    const rolled = await sandbox.cli(['restart', '--yes', '--json'], {timeoutMs: 300_000})
    expect(rolled.code, rolled.stdout + rolled.stderr).toBe(0)
    expect(json<RolloutResult>(rolled).updateStrategy).toBe('switched from RollingUpdate')
    const strategy = await sandbox.kubectl(['get', 'statefulset', 'redis-cluster', '-o', 'jsonpath={.spec.updateStrategy.type}'])
    expect(strategy.stdout).toBe('OnDelete')
    const after = await revisions(sandbox)
    expect(after.update).not.toBe(before.update)
    expect(onRevision(after, after.update)).toHaveLength(6)
    await expectWhole(sandbox)
  }, 420_000)

  it('cluster create --storage-class nosuch stops early, exit 12, naming the StorageClass', async () => {
    const created = await sandbox.cli(['cluster', 'create', '--name', 'typo', '--storage-class', 'nosuch', '--timeout', '240', '--json'], {timeoutMs: 280_000})
    expect(created.code, created.stdout + created.stderr).toBe(12)
    expect((JSON.parse(created.stdout) as {error: {message: string}}).error.message).toMatch(/Pod typo-\d will not become Ready: its PersistentVolumeClaim data-typo-\d cannot be provisioned: storageclass\.storage\.k8s\.io "nosuch" not found/)
    const down = await sandbox.cli(['teardown', '--name', 'typo', '--with-pvcs', '--yes'])
    expect(down.code, down.stdout + down.stderr).toBe(0)
  }, 320_000)
})

describe(`rollout of a 3x2 cluster holding ${KEYS.toLocaleString('en')} keys`, () => {
  let sandbox: E2eSandbox

  beforeAll(async () => {
    sandbox = await startClusterWithKeys({podIpOctet: 48, keys: KEYS, replicasPerMaster: 2})
  }, 300_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('rollout --image --set slowlog-log-slower-than=20000 under a cluster client: the order the dry run printed, every acknowledged write reads back, no stale read, all 9 pods on the update revision running the setting, the ConfigMap holding it', async () => {
    await expectRolloutUnderTraffic(sandbox, ['--image', 'redis:7.0-next', '--set', 'slowlog-log-slower-than=20000'], {masters: 3, podCount: 9})

    const got = await sandbox.cli(['config', 'get', 'slowlog-log-slower-than', '--json'])
    expect(got.code, got.stdout + got.stderr).toBe(0)
    expect(json<ConfigGetResult>(got).settings[0].nodes.map((n) => n.value)).toEqual(Array(9).fill('20000'))
    const conf = await sandbox.kubectl(['get', 'configmap', 'redis-cluster-config', '-o', 'jsonpath={.data.redis\\.conf}'])
    expect(conf.stdout).toContain('\nslowlog-log-slower-than 20000\n')
  }, 700_000)
})

import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {Cluster} from 'ioredis'
import {afterEach, describe, expect, it} from 'vitest'

import {PreconditionError, TimeoutError} from '../../src/errors.js'
import {RedisConnector} from '../../src/redis/connection.js'
import {CREATE_STEPS, formCluster, type FormProgress, waitForAgreement} from '../../src/redis/form.js'
import {observeCluster} from '../../src/redis/observe.js'
import {waitUntil} from '../../src/util/wait.js'
import {planCreate, type CreatePlan} from '../../src/topology/create-plan.js'
import type {PodRef} from '../../src/topology/model.js'
import {type RedisNodes, startRedisNodes} from '../support/redis-nodes.js'

const run = promisify(execFile)

let nodes: RedisNodes | undefined
let connector: RedisConnector | undefined

afterEach(async () => {
  await connector?.closeAll()
  await nodes?.stop()
  nodes = connector = undefined
})

async function start(count: number, k8sNodes?: string[], extraConfig?: string[]): Promise<PodRef[]> {
  nodes = await startRedisNodes(count, {extraConfig})
  connector = new RedisConnector()
  return nodes.nodes.map((n, i) => ({pod: `redis-${i}`, ordinal: i, ip: n.host, port: n.port, k8sNode: k8sNodes?.[i]}))
}

async function plan(pods: PodRef[], masters = 3, replicasPerMaster = 1): Promise<CreatePlan> {
  return planCreate(pods, await observeCluster(connector!, pods.map((p) => ({host: p.ip, port: p.port}))), {masters, replicasPerMaster})
}

async function create(pods: PodRef[], onProgress?: (p: FormProgress) => void): Promise<string[]> {
  const {actions} = await formCluster(connector!, (await plan(pods)).layout, {timeoutMs: 20_000, onProgress})
  return actions
}

/** Each node's configuration as CLUSTER NODES shows it, without the ping/pong times that change by themselves. */
async function configs(pods: PodRef[]): Promise<string[]> {
  return Promise.all(pods.map(async (p) => {
    const reply = String(await (await connector!.client({host: p.ip, port: p.port})).call('CLUSTER', 'NODES'))
    return reply.trim().split('\n').map((l) => l.split(' ').filter((_, i) => i !== 4 && i !== 5).join(' ')).sort().join('\n')
  }))
}

async function currentEpochs(pods: PodRef[]): Promise<number[]> {
  const observation = await observeCluster(connector!, pods.map((p) => ({host: p.ip, port: p.port})))
  return observation.views.map((v) => v.info.currentEpoch)
}

describe('forming a cluster from real redis-server processes', () => {
  it('forms 3 masters x 1 replica that redis-cli --cluster check passes and a cluster client can use', async () => {
    const pods = await start(6)
    const steps = new Set<string>()
    await create(pods, (p) => steps.add(p.step))
    expect([...steps]).toEqual(['assign-slots', 'config-epochs', 'meet', 'converge', 'replicate', 'attach', 'ready'])

    const check = await run('redis-cli', ['--cluster', 'check', `${pods[0].ip}:6379`])
    expect(check.stdout).toContain('[OK] All nodes agree about slots configuration.')
    expect(check.stdout).toContain('[OK] All 16384 slots covered.')
    expect(check.stdout).not.toContain('[ERR]')
    expect(check.stdout).toMatch(/3 masters/)
    expect(check.stdout.match(/1 additional replica\(s\)/g)).toHaveLength(3)

    const client = new Cluster([{host: pods[0].ip, port: 6379}])
    try {
      const keys = Array.from({length: 50}, (_, i) => `key:${i}`)
      await Promise.all(keys.map((k) => client.set(k, `value of ${k}`)))
      expect(await Promise.all(keys.map((k) => client.get(k)))).toEqual(keys.map((k) => `value of ${k}`))
    } finally {
      client.disconnect()
    }
  })

  it('forms a new cluster on a shortened cluster-node-timeout, gives the configured one back, and fails over no master', async () => {
    const pods = await start(6)
    const {layout} = await plan(pods)
    const steps = new Set<string>()
    const {actions} = await formCluster(connector!, layout, {timeoutMs: 20_000, configuredNodeTimeoutMs: 5000, onProgress: (p) => steps.add(p.step)})
    expect([...steps]).toEqual(['assign-slots', 'config-epochs', 'meet', 'shorten-timeout', 'converge', 'restore-timeout', 'replicate', 'attach', 'ready'])
    expect(actions).toContain('CONFIG SET cluster-node-timeout 1000 on 6 nodes (5000 again once cluster_state:ok)')

    const {views} = await observeCluster(connector!, pods.map((p) => ({host: p.ip, port: p.port})))
    expect(views.map((v) => v.nodeTimeoutMs)).toEqual([5000, 5000, 5000, 5000, 5000, 5000])
    // A failover's election raises the current epoch above the 6 distinct epochs set before the nodes met.
    expect(views.map((v) => v.info.currentEpoch)).toEqual([6, 6, 6, 6, 6, 6])
    const masters = views.filter((v) => v.myself.role === 'master')
    expect(masters.map((v) => v.address.host).sort()).toEqual(layout.shards.map((s) => s.master.ip).sort())
    expect(views.every((v) => v.info.state === 'ok')).toBe(true)
  })

  it('gives cluster-node-timeout back when run again after a forming stopped while it was short', async () => {
    const pods = await start(6)
    const {layout} = await plan(pods)
    const untilShort = CREATE_STEPS.slice(0, CREATE_STEPS.findIndex((s) => s.step === 'shorten-timeout') + 1)
    for (const step of untilShort) await step.run(connector!, layout, {timeoutMs: 20_000, configuredNodeTimeoutMs: 5000})
    const short = await observeCluster(connector!, pods.map((p) => ({host: p.ip, port: p.port})))
    expect(short.views.map((v) => v.nodeTimeoutMs)).toEqual([1000, 1000, 1000, 1000, 1000, 1000])

    await formCluster(connector!, (await plan(pods)).layout, {timeoutMs: 20_000, configuredNodeTimeoutMs: 5000})
    const {views} = await observeCluster(connector!, pods.map((p) => ({host: p.ip, port: p.port})))
    expect(views.map((v) => v.nodeTimeoutMs)).toEqual([5000, 5000, 5000, 5000, 5000, 5000])
    expect(views.every((v) => v.info.state === 'ok')).toBe(true)
  })

  it('changes nothing when the cluster is already formed', async () => {
    const pods = await start(6)
    await create(pods)
    const epochsBefore = await currentEpochs(pods)
    const configsBefore = await configs(pods)

    expect((await plan(pods)).kind).toBe('formed')
    const reported: string[] = []
    expect(await create(pods, (p) => reported.push(p.message))).toEqual([])
    // A step with nothing to do says nothing ("0 nodes met ..."): the task list shows it as skipped.
    expect(reported.filter((m) => /(^|\s)0 /.test(m))).toEqual([])
    expect(await currentEpochs(pods)).toEqual(epochsBefore)
    expect(await configs(pods)).toEqual(configsBefore)
  })

  it('finishes a forming that stopped after assigning slots to some masters', async () => {
    const pods = await start(6)
    const {layout} = await plan(pods)
    const first = layout.shards[0]
    await (await connector!.client({host: first.master.ip, port: 6379})).call('CLUSTER', 'ADDSLOTSRANGE', first.slots[0].start, first.slots[0].end)

    const resumed = await plan(pods)
    expect(resumed).toMatchObject({kind: 'resume', done: ['slots assigned on 1 of 3 masters']})
    const actions = await create(pods)
    expect(actions.filter((a) => a.includes('ADDSLOTSRANGE'))).toHaveLength(2)
    const check = await run('redis-cli', ['--cluster', 'check', `${pods[0].ip}:6379`])
    expect(check.stdout).toContain('[OK] All 16384 slots covered.')
  })

  it('finishes a forming that stopped after some nodes met', async () => {
    const pods = await start(6)
    const hub = await connector!.client({host: pods[0].ip, port: pods[0].port})
    await hub.call('CLUSTER', 'MEET', pods[1].ip, 6379)
    await hub.call('CLUSTER', 'MEET', pods[2].ip, 6379)
    await waitUntil('the first three nodes to have met', async () => {
      const known = await Promise.all(pods.slice(0, 3).map(async (p) => {
        const reply = String(await (await connector!.client({host: p.ip, port: p.port})).call('CLUSTER', 'NODES'))
        return reply.split('\n').filter((l) => l && !l.includes('handshake')).length
      }))
      return known[0] === 3 && known.every((k) => k >= 2) ? {done: true, value: undefined} : {done: false, missing: `known: ${known.join(', ')}`}
    }, {timeoutMs: 5000})

    expect(await plan(pods)).toMatchObject({kind: 'resume', done: ['3 of 6 nodes have met other nodes']})
    await create(pods)
    const check = await run('redis-cli', ['--cluster', 'check', `${pods[0].ip}:6379`])
    expect(check.stdout).toContain('[OK] All nodes agree about slots configuration.')
    expect(check.stdout).toContain('[OK] All 16384 slots covered.')
  })

  it('introduces the nodes a few handshakes at a time when the window is smaller than the pairs, and forms the cluster', async () => {
    const pods = await start(8)
    const underWay: number[] = []
    const onProgress = ({step, message}: FormProgress): void => {
      const handshakes = /^(\d+) handshakes? under way/.exec(message)
      if (step === 'meet' && handshakes) underWay.push(Number(handshakes[1]))
    }
    await formCluster(connector!, (await plan(pods, 4)).layout, {timeoutMs: 30_000, meetWindow: 5, replicasAtOnce: 2, onProgress})

    expect(underWay.length).toBeGreaterThan(0)
    expect(Math.max(...underWay)).toBeLessThanOrEqual(5)
    const check = await run('redis-cli', ['--cluster', 'check', `${pods[0].ip}:6379`])
    expect(check.stdout).toContain('[OK] All nodes agree about slots configuration.')
    expect(check.stdout).toContain('[OK] All 16384 slots covered.')
    expect(check.stdout.match(/^S: /gm)).toHaveLength(4)
  })

  it('refuses pods where a node holds keys, and changes nothing', async () => {
    const pods = await start(6, undefined, ['enable-debug-command yes'])
    const holder = await connector!.client({host: pods[4].ip, port: 6379})
    await holder.call('DEBUG', 'POPULATE', 10)
    const before = await configs(pods)

    await expect(plan(pods)).rejects.toThrow(PreconditionError)
    await expect(plan(pods)).rejects.toThrow(/redis-4 holds 10 keys but no slots/)
    expect(await configs(pods)).toEqual(before)
    expect(await holder.dbsize()).toBe(10)
  })

  it('gives up after the timeout, saying which nodes still do not know which', async () => {
    const pods = await start(6)
    const {layout} = await plan(pods)
    await expect(waitForAgreement(connector!, layout, {timeoutMs: 100})).rejects.toThrow(TimeoutError)
    await expect(waitForAgreement(connector!, layout, {timeoutMs: 100})).rejects.toThrow(/waiting for every node to know every node: redis-0 does not know 5 nodes yet/)
  })

  it('keeps every replica off its master\'s Kubernetes node', async () => {
    // Ordinal order alone would pair redis-0 with redis-3, both on node a.
    const pods = await start(6, ['a', 'b', 'c', 'a', 'b', 'c'])
    await create(pods)
    const observation = await observeCluster(connector!, pods.map((p) => ({host: p.ip, port: p.port})))
    const podOf = new Map(observation.views.map((v) => [v.id, pods.find((p) => p.ip === v.address.host)!]))
    const replicas = observation.views.filter((v) => v.myself.role === 'replica')
    expect(replicas).toHaveLength(3)
    for (const replica of replicas) expect(podOf.get(replica.id)!.k8sNode).not.toBe(podOf.get(replica.myself.masterId!)!.k8sNode)
  })
})

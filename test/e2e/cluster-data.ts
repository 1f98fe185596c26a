import {Cluster} from 'ioredis'
import {expect} from 'vitest'

import type {NodeStatus} from '../../src/topology/status.js'
import {json} from '../support/cli.js'
import {pods, redisCli, startE2eSandbox, type E2eSandbox} from './e2e-support.js'

/** What the e2e specifications check about a cluster's data and shape, through a cluster client, status and redis-cli. */

export const SELECTOR = 'app.kubernetes.io/instance=redis-cluster'

export const value = (i: number): string => `v${i}-${'x'.repeat(90)}`

export type StatusNode = NodeStatus

/** An ACL user of an ACL cluster (cluster create --acl), as a client logs in. */
export interface RedisUser {
  username: string
  password: string
}

/**
 * A cluster client over the pods `selector` matches (redisctl's own by default), as `user` when given (ACL clusters:
 * the ready check's INFO is @dangerous, so it is off).
 */
export async function clusterClient(sandbox: E2eSandbox, user?: RedisUser, selector = SELECTOR): Promise<Cluster> {
  const seeds = (await pods(sandbox, selector)).map((p) => ({host: p.ip!, port: 6379}))
  return new Cluster(seeds, {scaleReads: 'master', redisOptions: {maxRetriesPerRequest: 5, ...(user ? {...user, enableReadyCheck: false} : {})}})
}

/** Writes key:0 .. key:count-1 with their values, 5,000 at a time. */
export async function writeKeys(sandbox: E2eSandbox, count: number, user?: RedisUser, selector = SELECTOR): Promise<void> {
  const cluster = await clusterClient(sandbox, user, selector)
  try {
    for (let start = 0; start < count; start += 5000) {
      await Promise.all(Array.from({length: Math.min(5000, count - start)}, (_, j) => cluster.set(`key:${start + j}`, value(start + j))))
    }
  } finally {
    cluster.disconnect()
  }
}

/** Every key written by writeKeys is there with its value: the count of those missing or wrong. */
export async function missingKeys(sandbox: E2eSandbox, count: number, user?: RedisUser, selector = SELECTOR): Promise<number> {
  const cluster = await clusterClient(sandbox, user, selector)
  let missing = 0
  try {
    for (let start = 0; start < count; start += 5000) {
      const batch = Array.from({length: Math.min(5000, count - start)}, (_, j) => start + j)
      const got = await Promise.all(batch.map((i) => cluster.get(`key:${i}`)))
      got.forEach((v, j) => {
        if (v !== value(batch[j])) missing++
      })
    }
  } finally {
    cluster.disconnect()
  }
  return missing
}

/** A sandbox of the file's own with `cluster create` (3x1 unless told) done and `keys` keys written. */
export async function startClusterWithKeys(options: {podIpOctet: number; keys: number; masters?: number; replicasPerMaster?: number}): Promise<E2eSandbox> {
  const sandbox = await startE2eSandbox({podIpOctet: options.podIpOctet})
  const created = await sandbox.cli(['cluster', 'create', '--masters', String(options.masters ?? 3), '--replicas-per-master', String(options.replicasPerMaster ?? 1), '--json'],
    {timeoutMs: 180_000})
  if (created.code !== 0) throw new Error(`create failed: ${created.stdout}${created.stderr}`)
  await writeKeys(sandbox, options.keys)
  return sandbox
}

export async function statusNodes(sandbox: E2eSandbox, name = 'redis-cluster'): Promise<StatusNode[]> {
  const status = await sandbox.cli(['status', '--name', name, '--json'])
  expect(status.code, status.stderr).toBe(0)
  return json<{nodes: StatusNode[]}>(status).nodes
}

/** `redis-cli --cluster check` passes; as `user` when given, its password through REDISCLI_AUTH (never argv). */
export async function redisCliCheckPasses(sandbox: E2eSandbox, selector = SELECTOR, user?: RedisUser): Promise<boolean> {
  const [first] = await pods(sandbox, selector)
  const check = await redisCli([...(user ? ['--user', user.username] : []), '--cluster', 'check', `${first.ip}:6379`], user ? {REDISCLI_AUTH: user.password} : {})
  return check.code === 0 && check.stdout.includes('[OK] All 16384 slots covered') && !check.stdout.includes('[ERR]')
}

export function slotSpreadPercent(nodes: StatusNode[]): number {
  const counts = nodes.filter((n) => n.role === 'master').map((n) => n.slotCount)
  return ((Math.max(...counts) - Math.min(...counts)) / (16384 / counts.length)) * 100
}

export const replicasBesideTheirMaster = (nodes: StatusNode[]): string[] => nodes
  .filter((n) => n.role === 'replica' && n.k8sNode === nodes.find((m) => m.pod === n.masterPod)?.k8sNode)
  .map((n) => n.pod)


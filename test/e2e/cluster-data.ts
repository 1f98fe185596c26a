import {Cluster} from 'ioredis'
import {expect} from 'vitest'

import {json} from '../support/cli.js'
import {pods, redisCli, startE2eSandbox, type E2eSandbox} from './e2e-support.js'

/**
 * The data side of the e2e specifications: a cluster client on the pods' (loopback) IPs, keys written before a
 * change and proved to be all there after it, and the cluster as `redisctl status --json` reports it.
 */

export const SELECTOR = 'app.kubernetes.io/instance=redis-cluster'

/** The value key:i holds: about 100 bytes, different for every key. */
export const keyValue = (i: number): string => `v${i}-${'x'.repeat(90)}`

export interface StatusNode {pod: string; k8sNode?: string; role?: string; masterPod?: string; slotCount: number}

export async function clusterClient(sandbox: E2eSandbox): Promise<Cluster> {
  const seeds = (await pods(sandbox, SELECTOR)).map((p) => ({host: p.ip!, port: 6379}))
  return new Cluster(seeds, {scaleReads: 'master', redisOptions: {maxRetriesPerRequest: 5}})
}

/** A sandbox of the test file's own (its pod-IP octet) with the default 3x1 cluster holding key:0 .. key:keys-1. */
export async function sandboxWithKeys(podIpOctet: number, keys: number): Promise<E2eSandbox> {
  const sandbox = await startE2eSandbox({podIpOctet})
  const created = await sandbox.cli(['cluster', 'create', '--json'])
  if (created.code !== 0) throw new Error(`create failed: ${created.stdout}${created.stderr}`)
  await writeKeys(sandbox, keys)
  return sandbox
}

/** Writes key:0 .. key:count-1, 5000 at a time. */
export async function writeKeys(sandbox: E2eSandbox, count: number): Promise<void> {
  const cluster = await clusterClient(sandbox)
  try {
    for (let start = 0; start < count; start += 5000) {
      await Promise.all(Array.from({length: Math.min(5000, count - start)}, (_, j) => cluster.set(`key:${start + j}`, keyValue(start + j))))
    }
  } finally {
    cluster.disconnect()
  }
}

/** Every key written by writeKeys is there with its value: the count of those missing or wrong. */
export async function missingKeys(sandbox: E2eSandbox, count: number): Promise<number> {
  const cluster = await clusterClient(sandbox)
  let missing = 0
  try {
    for (let start = 0; start < count; start += 5000) {
      const batch = Array.from({length: Math.min(5000, count - start)}, (_, j) => start + j)
      const got = await Promise.all(batch.map((i) => cluster.get(`key:${i}`)))
      got.forEach((v, j) => {
        if (v !== keyValue(batch[j])) missing++
      })
    }
  } finally {
    cluster.disconnect()
  }
  return missing
}

export async function statusNodes(sandbox: E2eSandbox): Promise<StatusNode[]> {
  const status = await sandbox.cli(['status', '--json'])
  expect(status.code, status.stderr).toBe(0)
  return json<{nodes: StatusNode[]}>(status).nodes
}

/** How far apart the masters' slot counts are, in percent of an even share. */
export function slotSpreadPercent(nodes: StatusNode[]): number {
  const counts = nodes.filter((n) => n.role === 'master').map((n) => n.slotCount)
  return ((Math.max(...counts) - Math.min(...counts)) / (16384 / counts.length)) * 100
}

/** `redis-cli --cluster check` on the first pod finds every slot covered and nothing wrong. */
export async function redisCliCheckPasses(sandbox: E2eSandbox): Promise<boolean> {
  const [first] = await pods(sandbox, SELECTOR)
  const check = await redisCli(['--cluster', 'check', `${first.ip}:6379`])
  return check.code === 0 && check.stdout.includes('[OK] All 16384 slots covered')
}

/**
 * How fast the sandbox is, through the CLI and client-node as a user meets it:
 *   node --import tsx bench/sandbox.ts
 * - `sandbox up` until the API answers (wall time of the CLI);
 * - a 6-pod Parallel StatefulSet of real redis-servers, from create to all Ready;
 * - 60 pods (a 60-replica StatefulSet) to all Ready, and back to 0.
 * Needs `npm run build` first (it runs bin/run.js).
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions} from '@kubernetes/client-node'

const cli = (args: string[]): string => execFileSync(process.execPath, ['bin/run.js', ...args], {encoding: 'utf8'})

function statefulSet(name: string, replicas: number) {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name},
    spec: {
      replicas, serviceName: name, podManagementPolicy: 'Parallel', selector: {matchLabels: {app: name}},
      template: {
        metadata: {labels: {app: name}},
        spec: {containers: [{name: 'redis', image: 'redis:7.0', args: ['--save', '', '--appendonly', 'no'], ports: [{containerPort: 6379}]}]},
      },
    },
  }
}

async function readyCount(core: CoreV1Api, app: string): Promise<number> {
  const pods = await core.listNamespacedPod({namespace: 'default', labelSelector: `app=${app}`})
  return pods.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

const dir = mkdtempSync(join(tmpdir(), 'redisctl-bench-sandbox-'))
try {
  let started = performance.now()
  const up = JSON.parse(cli(['sandbox', 'up', '--dir', dir, '--json'])) as {kubeconfig: string}
  const upMs = performance.now() - started
  const kc = new KubeConfig()
  kc.loadFromFile(up.kubeconfig)
  const core = kc.makeApiClient(CoreV1Api)
  const apps = kc.makeApiClient(AppsV1Api)

  started = performance.now()
  await apps.createNamespacedStatefulSet({namespace: 'default', body: statefulSet('six', 6)})
  await until(async () => (await readyCount(core, 'six')) === 6, 30_000)
  const sixMs = performance.now() - started

  started = performance.now()
  await apps.createNamespacedStatefulSet({namespace: 'default', body: statefulSet('sixty', 60)})
  await until(async () => (await readyCount(core, 'sixty')) === 60, 120_000)
  const sixtyMs = performance.now() - started

  started = performance.now()
  await apps.patchNamespacedStatefulSetScale({name: 'sixty', namespace: 'default', body: {spec: {replicas: 0}}},
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  await until(async () => (await core.listNamespacedPod({namespace: 'default', labelSelector: 'app=sixty'})).items.length === 0, 120_000)
  const downMs = performance.now() - started

  console.log('| what | ms |\n| --- | ---: |')
  console.log(`| sandbox up, until the API answers (CLI wall time) | ${upMs.toFixed(0)} |`)
  console.log(`| 6-pod Parallel StatefulSet, create to all Ready | ${sixMs.toFixed(0)} |`)
  console.log(`| 60-pod Parallel StatefulSet, create to all Ready | ${sixtyMs.toFixed(0)} |`)
  console.log(`| 60 pods scaled to 0, until all are gone | ${downMs.toFixed(0)} |`)
} finally {
  cli(['sandbox', 'down', '--dir', dir, '--purge'])
  rmSync(dir, {recursive: true, force: true})
}

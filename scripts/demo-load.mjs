// Writes or verifies N keys spread over all 16384 slots through a real cluster client, for the demo.
// Usage: node scripts/demo-load.mjs write|verify N   (finds a pod IP through the sandbox's kubeconfig)
import {CoreV1Api, KubeConfig} from '@kubernetes/client-node'
import {Cluster} from 'ioredis'

const [mode, countArg] = process.argv.slice(2)
const count = Number(countArg ?? 10000)
const kc = new KubeConfig()
kc.loadFromDefault()
const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({namespace: 'default', labelSelector: 'app.kubernetes.io/managed-by=redisctl'})
const seeds = pods.items.filter((p) => p.status?.podIP).map((p) => ({host: p.status.podIP, port: 6379}))
const cluster = new Cluster(seeds, {redisOptions: {password: process.env.REDISCTL_PASSWORD}})
const value = (i) => `value-${i}-${'x'.repeat(80)}`
let bad = 0
for (let start = 0; start < count; start += 1000) {
  const batch = Array.from({length: Math.min(1000, count - start)}, (_, j) => start + j)
  if (mode === 'write') {
    await Promise.all(batch.map((i) => cluster.set(`demo:${i}`, value(i))))
  } else {
    const got = await Promise.all(batch.map((i) => cluster.get(`demo:${i}`)))
    got.forEach((v, j) => { if (v !== value(batch[j])) bad++ })
  }
}
await cluster.quit()
if (mode === 'write') console.log(`wrote ${count} keys`)
else if (bad === 0) console.log(`all ${count} keys are there with their values`)
else { console.error(`${bad} of ${count} keys are missing or wrong`); process.exit(1) }

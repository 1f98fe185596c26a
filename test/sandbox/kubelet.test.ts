import {CoreV1Api, type V1Pod} from '@kubernetes/client-node'
import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startApiServer} from '../../src/sandbox/apiserver/server.js'
import {startKubelet} from '../../src/sandbox/kubelet/index.js'
import {
  isRedisProcess,
  kubeConfigFor,
  mergePatch,
  NAMESPACE,
  pidOf,
  podGone,
  prepareCluster,
  processGone,
  readyPod,
  redisCommand,
  redisPod,
  waitFor,
} from './kubelet-harness.js'

const NODE = 'kubelet-node-a'

let api: Awaited<ReturnType<typeof startApiServer>>
let kubelet: Awaited<ReturnType<typeof startKubelet>>
let core: CoreV1Api
let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubelet-test-'))
  api = await startApiServer({host: '127.0.0.1', port: 0})
  const kc = kubeConfigFor(api.url, api.adminToken)
  core = kc.makeApiClient(CoreV1Api)
  await prepareCluster(core, [NODE])
  kubelet = await startKubelet(kc, {nodeNames: [NODE], stateDir: join(root, 'kubelet'), ipRange: '127.96.0.0/16'})
})

afterAll(async () => {
  await kubelet?.stop()
  await api?.close()
  await rm(root, {recursive: true, force: true})
})

const create = (pod: V1Pod) => core.createNamespacedPod({namespace: NAMESPACE, body: pod})

describe('the loopback kubelet', () => {
  it('keeps its node Ready with an address and room for 110 pods', async () => {
    const node = await waitFor('node status', async () => {
      const n = await core.readNode({name: NODE})
      return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? n : undefined
    })
    expect(node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).toMatch(/^127\./)
    expect(node.status?.allocatable?.pods).toBe('110')
  })

  it('runs a bound pod as a real redis-server on a pod IP of its own, Running and Ready', async () => {
    await create(redisPod('plain', NODE))
    const pod = await readyPod(core, 'plain')
    const ip = pod.status!.podIP!
    expect(ip).toMatch(/^127\.96\.\d+\.\d+$/)
    expect(pod.status?.podIPs).toEqual([{ip}])
    expect(pod.status?.hostIP).toMatch(/^127\./)
    expect(pod.status?.startTime).toBeDefined()
    expect(pod.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort()).toEqual(['ContainersReady=True', 'Initialized=True', 'PodScheduled=True', 'Ready=True'])
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({name: 'redis', image: 'redis:7.0', ready: true, started: true, restartCount: 0})
    expect(pod.status?.containerStatuses?.[0].state?.running?.startedAt).toBeDefined()
    expect(await redisCommand(ip, 6379, 'PING')).toBe('PONG')
  })

  it('expands $(POD_IP) in args from the container env before redis-server sees them', async () => {
    await create(
      redisPod('expanded', NODE, {
        containers: [
          {
            name: 'redis',
            image: 'redis:7.0',
            command: ['redis-server'],
            args: ['--port', '7000', '--cluster-enabled', 'yes', '--cluster-announce-ip', '$(POD_IP)', '--cluster-config-file', 'nodes-$(POD_NAME).conf'],
            env: [
              {name: 'POD_IP', valueFrom: {fieldRef: {fieldPath: 'status.podIP'}}},
              {name: 'POD_NAME', valueFrom: {fieldRef: {fieldPath: 'metadata.name'}}},
            ],
          },
        ],
      }),
    )
    const pod = await readyPod(core, 'expanded')
    const ip = pod.status!.podIP!
    expect(await redisCommand(ip, 7000, 'CONFIG', 'GET', 'cluster-announce-ip')).toEqual(['cluster-announce-ip', ip])
    expect(await redisCommand(ip, 7000, 'CONFIG', 'GET', 'cluster-config-file')).toEqual(['cluster-config-file', 'nodes-expanded.conf'])
  })

  it('uses a redis.conf mounted from a ConfigMap, with its container paths pointing at the pod volumes', async () => {
    await core.createNamespacedConfigMap({
      namespace: NAMESPACE,
      body: {metadata: {name: 'redis-conf'}, data: {'redis.conf': 'port 7001\nmaxmemory 12mb\ndir /data\nappendonly no\nsave ""\n'}},
    })
    await create(
      redisPod('configured', NODE, {
        containers: [
          {
            name: 'redis',
            image: 'redis:7.0',
            command: ['redis-server', '/etc/redis/redis.conf'],
            volumeMounts: [
              {name: 'conf', mountPath: '/etc/redis'},
              {name: 'data', mountPath: '/data'},
            ],
          },
        ],
        volumes: [
          {name: 'conf', configMap: {name: 'redis-conf'}},
          {name: 'data', emptyDir: {}},
        ],
      }),
    )
    const pod = await readyPod(core, 'configured')
    const ip = pod.status!.podIP!
    expect(await redisCommand(ip, 7001, 'CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', String(12 * 1024 * 1024)])
    const [, dir] = (await redisCommand(ip, 7001, 'CONFIG', 'GET', 'dir')) as string[]
    expect(dir).toBe(join(root, 'kubelet', 'pods', `${NAMESPACE}_configured_${pod.metadata!.uid}`, 'volumes', 'empty-dir', 'data'))
  })

  it('keeps the data of a PVC across a pod deleted and created again, on a new pod IP', async () => {
    const hostPath = join(root, 'pv-data-0')
    await core.createPersistentVolume({
      body: {metadata: {name: 'pv-data-0'}, spec: {capacity: {storage: '1Gi'}, accessModes: ['ReadWriteOnce'], hostPath: {path: hostPath}}},
    })
    await core.createNamespacedPersistentVolumeClaim({
      namespace: NAMESPACE,
      body: {metadata: {name: 'data-0'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}, volumeName: 'pv-data-0'}},
    })
    await core.patchNamespacedPersistentVolumeClaimStatus({name: 'data-0', namespace: NAMESPACE, body: {status: {phase: 'Bound'}}}, mergePatch)
    const withClaim = (): V1Pod =>
      redisPod('stateful', NODE, {
        containers: [{name: 'redis', image: 'redis:7.0', args: ['--appendonly', 'yes', '--dir', '/data'], volumeMounts: [{name: 'data', mountPath: '/data'}]}],
        volumes: [{name: 'data', persistentVolumeClaim: {claimName: 'data-0'}}],
      })
    await create(withClaim())
    const first = await readyPod(core, 'stateful')
    expect(await redisCommand(first.status!.podIP!, 6379, 'SET', 'greeting', 'hello')).toBe('OK')
    await core.deleteNamespacedPod({name: 'stateful', namespace: NAMESPACE})
    await podGone(core, 'stateful', first.metadata!.uid!)

    await create(withClaim())
    const second = await readyPod(core, 'stateful')
    expect(second.status!.podIP).not.toBe(first.status!.podIP)
    expect(await redisCommand(second.status!.podIP!, 6379, 'GET', 'greeting')).toBe('hello')
    expect(await readdir(hostPath)).toContain('appendonlydir')
  })

  it('restarts a crashed redis-server in place: same pod IP, restartCount 1', async () => {
    await create(redisPod('crashy', NODE))
    const before = await readyPod(core, 'crashy')
    process.kill(pidOf(before), 'SIGKILL')
    const after = await waitFor('crashy restarted and ready', async () => {
      const pod = await core.readNamespacedPod({name: 'crashy', namespace: NAMESPACE})
      return pod.status?.containerStatuses?.[0]?.restartCount === 1 && pod.status.containerStatuses[0].ready ? pod : undefined
    })
    expect(after.status!.podIP).toBe(before.status!.podIP)
    expect(after.status?.containerStatuses?.[0].lastState?.terminated).toMatchObject({exitCode: 137})
    expect(pidOf(after)).not.toBe(pidOf(before))
    expect(await redisCommand(after.status!.podIP!, 6379, 'PING')).toBe('PONG')
  })

  it('turns Ready False while the server stops answering its readiness probe, and True again after', async () => {
    await create(
      redisPod('sleepy', NODE, {
        containers: [
          {
            name: 'redis',
            image: 'redis:7.0',
            args: ['--save', '', '--enable-debug-command', 'yes'],
            readinessProbe: {exec: {command: ['redis-cli', 'ping']}, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1},
          },
        ],
      }),
    )
    const ip = (await readyPod(core, 'sleepy')).status!.podIP!
    const sleeping = redisCommand(ip, 6379, 'DEBUG', 'SLEEP', '3').catch(() => undefined)
    const unready = await waitFor('Ready False', async () => {
      const pod = await core.readNamespacedPod({name: 'sleepy', namespace: NAMESPACE})
      return pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False') ? pod : undefined
    })
    expect(unready.status?.phase).toBe('Running')
    expect(unready.status?.containerStatuses?.[0].ready).toBe(false)
    await sleeping
    await readyPod(core, 'sleepy')
  })

  it('fails a pod whose container is not redis-server, saying why in its status and a Warning event', async () => {
    await create(redisPod('web', NODE, {containers: [{name: 'nginx', image: 'nginx:1.27', command: ['nginx', '-g', 'daemon off;']}]}))
    const pod = await waitFor('web Failed', async () => {
      const p = await core.readNamespacedPod({name: 'web', namespace: NAMESPACE})
      return p.status?.phase === 'Failed' ? p : undefined
    })
    expect(pod.status?.message).toMatch(/runs only redis-server/)
    const event = await waitFor('a Warning event', async () => {
      const events = await core.listNamespacedEvent({namespace: NAMESPACE})
      return events.items.find((e) => e.involvedObject.name === 'web' && e.type === 'Warning')
    })
    expect(event).toMatchObject({reason: 'Failed', source: {component: 'kubelet', host: NODE}})
    expect(event.message).toMatch(/runs only redis-server/)
  })

  it('stops the server of a deleted pod and then removes the pod object', async () => {
    await create(redisPod('doomed', NODE))
    const pod = await readyPod(core, 'doomed')
    const pid = pidOf(pod)
    expect(await isRedisProcess(pid)).toBe(true)
    await core.deleteNamespacedPod({name: 'doomed', namespace: NAMESPACE})
    await podGone(core, 'doomed', pod.metadata!.uid!)
    expect(await isRedisProcess(pid)).toBe(false)
  })

  it('stops the server of a pod that someone set to Failed', async () => {
    await create(redisPod('evicted', NODE))
    const pod = await readyPod(core, 'evicted')
    await core.patchNamespacedPodStatus({name: 'evicted', namespace: NAMESPACE, body: {status: {phase: 'Failed', reason: 'Evicted'}}}, mergePatch)
    await processGone(pidOf(pod))
    expect((await core.readNamespacedPod({name: 'evicted', namespace: NAMESPACE})).status?.phase).toBe('Failed')
  })
})

describe('stopping the kubelet', () => {
  it('leaves no redis-server behind', async () => {
    const node = 'kubelet-node-stop'
    await prepareCluster(core, [node])
    const second = await startKubelet(kubeConfigFor(api.url, api.adminToken), {nodeNames: [node], stateDir: join(root, 'second'), ipRange: '127.98.0.0/16'})
    await create(redisPod('short-lived-1', node))
    await create(redisPod('short-lived-2', node))
    const pids = [pidOf(await readyPod(core, 'short-lived-1')), pidOf(await readyPod(core, 'short-lived-2'))]
    await second.stop()
    for (const pid of pids) expect(await isRedisProcess(pid)).toBe(false)
  })
})

describe('a machine without redis-server', () => {
  it('fails the pod with a message naming the package to install', async () => {
    const node = 'kubelet-node-bare'
    await prepareCluster(core, [node])
    const bare = await startKubelet(kubeConfigFor(api.url, api.adminToken), {
      nodeNames: [node],
      stateDir: join(root, 'bare'),
      ipRange: '127.95.0.0/16',
      redisServerPath: join(root, 'no-such-redis-server'),
    })
    try {
      await create(redisPod('unlucky', node))
      const pod = await waitFor('unlucky Failed', async () => {
        const p = await core.readNamespacedPod({name: 'unlucky', namespace: NAMESPACE})
        return p.status?.phase === 'Failed' ? p : undefined
      })
      expect(pod.status?.message).toMatch(/install the redis-server package/)
    } finally {
      await bare.stop()
    }
  })
})

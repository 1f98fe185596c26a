import {CoreV1Api, type CoreV1Event, type V1ContainerStateWaiting, type V1Pod} from '@kubernetes/client-node'
import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startApiServer} from '../../src/sandbox/apiserver/server.js'
import {findServerBinary} from '../../src/sandbox/kubelet/container-command.js'
import {startKubelet} from '../../src/sandbox/kubelet/index.js'
import {kubeConfigFor, NAMESPACE, pidOf, prepareCluster, readyPod, redisPod, waitFor} from './kubelet-harness.js'

/**
 * Images and failing containers on the loopback kubelet, as a kubelet shows them: an image that maps to no server
 * binary waits in ErrImagePull / ImagePullBackOff with the kubelet's events and back-off; the image map names a
 * binary for an image (read at every pull); a container that keeps exiting is in CrashLoopBackOff.
 */

const NODE = 'kubelet-node-images'

let api: Awaited<ReturnType<typeof startApiServer>>
let kubelet: Awaited<ReturnType<typeof startKubelet>>
let core: CoreV1Api
let root: string
let imageMap: string
let secondServer: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubelet-images-test-'))
  // A second redis-server build stands in for another Redis version: same binary, another path.
  await mkdir(join(root, 'redis-7.2', 'bin'), {recursive: true})
  secondServer = join(root, 'redis-7.2', 'bin', 'redis-server')
  await symlink(findServerBinary('redis-server')!, secondServer)
  imageMap = join(root, 'image-map')
  await writeFile(imageMap, `redis:7.2=${secondServer}\nredis:7.0-unpublished=\n`)
  api = await startApiServer({host: '127.0.0.1', port: 0})
  const kc = kubeConfigFor(api.url, api.adminToken)
  core = kc.makeApiClient(CoreV1Api)
  await prepareCluster(core, [NODE])
  kubelet = await startKubelet(kc, {nodeNames: [NODE], stateDir: join(root, 'kubelet'), ipRange: '127.91.0.0/16', imageMapFile: imageMap})
})

afterAll(async () => {
  await kubelet?.stop()
  await api?.close()
  await rm(root, {recursive: true, force: true})
})

const create = (pod: V1Pod) => core.createNamespacedPod({namespace: NAMESPACE, body: pod})
const withImage = (name: string, image: string, args: string[] = ['--save', '', '--appendonly', 'no']) =>
  redisPod(name, NODE, {containers: [{name: 'redis', image, args}]})

async function waitingAs(name: string, reason: string): Promise<{pod: V1Pod; waiting: V1ContainerStateWaiting}> {
  return waitFor(`${name} waiting in ${reason}`, async () => {
    const pod = await core.readNamespacedPod({name, namespace: NAMESPACE})
    const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting
    return waiting?.reason === reason ? {pod, waiting} : undefined
  })
}

async function eventsOf(name: string): Promise<CoreV1Event[]> {
  const list = await core.listNamespacedEvent({namespace: NAMESPACE, fieldSelector: `involvedObject.name=${name}`})
  return list.items
}

const summary = (events: CoreV1Event[]) => events.map((e) => `${e.type} ${e.reason}: ${e.message}`)

describe('an image that maps to no server binary', () => {
  it('leaves the pod Pending in ErrImagePull with the runtime error, then ImagePullBackOff, with the kubelet events', async () => {
    await create(withImage('typo', 'reddis:7.0'))
    const ref = 'docker.io/library/reddis:7.0'
    const pullError = `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`
    const {pod, waiting} = await waitingAs('typo', 'ErrImagePull')
    expect(waiting.message).toBe(pullError)
    expect(pod.status?.phase).toBe('Pending')
    expect(pod.status?.podIP).toMatch(/^127\.91\./)
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({status: 'False', reason: 'ContainersNotReady'})
    expect((await waitingAs('typo', 'ImagePullBackOff')).waiting.message).toBe('Back-off pulling image "reddis:7.0"')

    const events = await waitFor('the kubelet events', async () => {
      const list = await eventsOf('typo')
      return list.some((e) => e.reason === 'BackOff') && list.some((e) => e.message === 'Error: ImagePullBackOff') ? list : undefined
    })
    expect(summary(events)).toEqual(
      expect.arrayContaining([
        'Normal Pulling: Pulling image "reddis:7.0"',
        `Warning Failed: Failed to pull image "reddis:7.0": ${pullError}`,
        'Warning Failed: Error: ErrImagePull',
        'Normal BackOff: Back-off pulling image "reddis:7.0"',
        'Warning Failed: Error: ImagePullBackOff',
      ]),
    )
    expect(events.every((e) => e.involvedObject.fieldPath === 'spec.containers{redis}' && e.source?.component === 'kubelet')).toBe(true)
  })

  it('tries again after the back-off, counting up the same events rather than writing new ones', async () => {
    await create(withImage('retried', 'nosuch/image:1'))
    const pulling = await waitFor('a second pull', async () => (await eventsOf('retried')).find((e) => e.reason === 'Pulling' && (e.count ?? 0) >= 2))
    expect(pulling.message).toBe('Pulling image "nosuch/image:1"')
    expect((await eventsOf('retried')).filter((e) => e.reason === 'Pulling')).toHaveLength(1)
  })

  it('cannot pull an image the map maps to nothing, even a redis one', async () => {
    await create(withImage('unpublished', 'redis:7.0-unpublished'))
    expect((await waitingAs('unpublished', 'ErrImagePull')).waiting.message).toContain('docker.io/library/redis:7.0-unpublished: not found')
  })

  it('starts the pod at the next try once the image map names a binary for its image', async () => {
    await create(withImage('late', 'cache:1'))
    await waitingAs('late', 'ImagePullBackOff')
    await writeFile(imageMap, `redis:7.2=${secondServer}\nredis:7.0-unpublished=\ncache:1=${findServerBinary('redis-server')}\n`)
    const pod = await readyPod(core, 'late')
    expect(pod.status?.containerStatuses?.[0].restartCount).toBe(0)
  })
})

describe('the image map', () => {
  it('runs the binary it names for an image, as a second Redis build for a version change', async () => {
    await create(withImage('upgraded', 'redis:7.2'))
    const pod = await readyPod(core, 'upgraded')
    const cmdline = await readFile(`/proc/${pidOf(pod)}/cmdline`, 'utf8')
    expect(cmdline.split('\0')[0].split(' ')[0]).toBe(secondServer)
  })
})

describe('a container that keeps exiting', () => {
  it('is in CrashLoopBackOff with the kubelet back-off message, restart count and BackOff event', async () => {
    await create(withImage('crashing', 'redis:7.0', ['--no-such-directive', 'yes']))
    const {pod, waiting} = await waitingAs('crashing', 'CrashLoopBackOff')
    const ref = `crashing_${NAMESPACE}(${pod.metadata?.uid})`
    expect(waiting.message).toMatch(new RegExp(`^back-off (500ms|[1-5]s) restarting failed container=redis pod=${ref.replace(/[()]/g, '\\$&')}$`))
    const status = pod.status?.containerStatuses?.[0]
    expect(status?.restartCount).toBeGreaterThanOrEqual(1)
    expect(status?.lastState?.terminated).toMatchObject({exitCode: 1, reason: 'Error'})
    expect(pod.status?.phase).toBe('Running')
    const backOff = await waitFor('the BackOff event', async () => (await eventsOf('crashing')).find((e) => e.reason === 'BackOff'))
    expect(backOff).toMatchObject({type: 'Warning', message: `Back-off restarting failed container redis in pod ${ref}`})
  })
})

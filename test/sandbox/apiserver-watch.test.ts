import {makeInformer, PatchStrategy, setHeaderOptions, Watch, type V1Pod} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startApiServer} from '../../src/sandbox/apiserver/server.js'
import {type ApiFixture, eventually, podManifest, startApiFixture} from './apiserver-fixture.js'

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

interface Seen {
  type: string
  name: string
  resourceVersion: string
  code?: number
}

let api: ApiFixture
beforeAll(async () => {
  api = await startApiFixture({watchHistory: 20})
})
afterAll(async () => api?.stop())

/** Collects a watch's events until stopped; `ended` resolves when the server closes the stream. */
async function collect(path: string, query: Record<string, string | number | boolean>) {
  const events: Seen[] = []
  let ended!: (err: unknown) => void
  const done = new Promise<unknown>((resolve) => (ended = resolve))
  const controller = await new Watch(api.kc).watch(path, query, (type, obj: {metadata?: {name?: string; resourceVersion?: string}; code?: number}) => {
    events.push({type, name: obj.metadata?.name ?? '', resourceVersion: obj.metadata?.resourceVersion ?? '', code: obj.code})
  }, (err) => ended(err))
  return {events, done, stop: () => controller.abort()}
}

describe('watch', () => {
  it('starts with the current objects as ADDED, then streams changes and deletions', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'w1'}}})
    await api.core.createNamespacedConfigMap({namespace: 'w1', body: {metadata: {name: 'before'}}})
    const w = await collect('/api/v1/namespaces/w1/configmaps', {})
    await eventually(() => expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED before']))
    await api.core.createNamespacedConfigMap({namespace: 'w1', body: {metadata: {name: 'after'}}})
    await api.core.patchNamespacedConfigMap({namespace: 'w1', name: 'after', body: {data: {k: 'v'}}}, mergePatch)
    await api.core.deleteNamespacedConfigMap({namespace: 'w1', name: 'before'})
    await eventually(() => expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED before', 'ADDED after', 'MODIFIED after', 'DELETED before']))
    w.stop()
  })

  it('replays only the changes after a given resourceVersion', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'w2'}}})
    const first = await api.core.createNamespacedConfigMap({namespace: 'w2', body: {metadata: {name: 'one'}}})
    await api.core.createNamespacedConfigMap({namespace: 'w2', body: {metadata: {name: 'two'}}})
    const w = await collect('/api/v1/namespaces/w2/configmaps', {resourceVersion: first.metadata!.resourceVersion!})
    await eventually(() => expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED two']))
    w.stop()
  })

  it('turns objects entering and leaving a label selector into ADDED and DELETED', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'w3'}}})
    const w = await collect('/api/v1/namespaces/w3/pods', {labelSelector: 'role=master'})
    await api.core.createNamespacedPod({namespace: 'w3', body: podManifest('p', {role: 'replica'})})
    await api.core.patchNamespacedPod({namespace: 'w3', name: 'p', body: {metadata: {labels: {role: 'master'}}}}, mergePatch)
    await api.core.patchNamespacedPod({namespace: 'w3', name: 'p', body: {metadata: {annotations: {x: 'y'}}}}, mergePatch)
    const last = await api.core.patchNamespacedPod({namespace: 'w3', name: 'p', body: {metadata: {labels: {role: 'replica'}}}}, mergePatch)
    await eventually(() => expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']))
    expect(w.events[2].resourceVersion).toBe(last.metadata!.resourceVersion)
    w.stop()
  })

  it('filters events with a field selector on the pod\'s node', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'w4'}}})
    const w = await collect('/api/v1/pods', {fieldSelector: 'spec.nodeName=node-7'})
    await api.core.createNamespacedPod({namespace: 'w4', body: podManifest('elsewhere')})
    await api.core.createNamespacedPod({namespace: 'w4', body: podManifest('here')})
    await api.core.createNamespacedPodBinding({namespace: 'w4', name: 'here', body: {metadata: {name: 'here'}, target: {kind: 'Node', name: 'node-7'}}})
    await eventually(() => expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED here']))
    w.stop()
  })

  it('answers a resourceVersion older than its history with a 410 Expired ERROR event and ends', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'w5'}}})
    const old = await api.core.createNamespacedConfigMap({namespace: 'w5', body: {metadata: {name: 'old'}}})
    for (let i = 0; i < 25; i++) await api.core.patchNamespacedConfigMap({namespace: 'w5', name: 'old', body: {data: {i: String(i)}}}, mergePatch)
    const w = await collect('/api/v1/namespaces/w5/configmaps', {resourceVersion: old.metadata!.resourceVersion!})
    await w.done
    expect(w.events).toEqual([expect.objectContaining({type: 'ERROR', code: 410})])
    const res = await api.fetch(`/api/v1/namespaces/w5/configmaps?watch=true&resourceVersion=${old.metadata!.resourceVersion}`)
    const event = JSON.parse((await res.text()).trim())
    expect(event.object).toMatchObject({kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: expect.stringMatching(/^too old resource version: \d+ \(\d+\)$/)})
  })

  it('ends the stream after timeoutSeconds', async () => {
    const started = Date.now()
    const w = await collect('/api/v1/namespaces/default/configmaps', {timeoutSeconds: 1})
    expect(await w.done).toBeNull()
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
  })

  it('marks the end of initial events with a bookmark when asked to send them', async () => {
    const controller = new AbortController()
    const res = await api.fetch(`/api/v1/namespaces?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`, {signal: controller.signal})
    let text = ''
    const decoder = new TextDecoder()
    for await (const chunk of res.body!) {
      text += decoder.decode(chunk)
      if (text.includes('BOOKMARK')) break
    }
    controller.abort()
    const events = text.trim().split('\n').map((l) => JSON.parse(l))
    expect(events.at(-1)).toMatchObject({type: 'BOOKMARK', object: {metadata: {annotations: {'k8s.io/initial-events-end': 'true'}}}})
    expect(events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name)).toContain('default')
  })
})

describe('shutdown', () => {
  it('ends open watches and frees the port on close()', async () => {
    const own = await startApiFixture()
    const w = await new Watch(own.kc).watch('/api/v1/namespaces', {}, () => {}, () => {})
    const ended = new Promise<void>((resolve) => w.signal.addEventListener('abort', () => resolve()))
    await own.stop()
    await ended
    const again = await startApiServer({port: own.server.port})
    await again.close()
  })
})

describe('informer', () => {
  it('keeps a client-node informer cache in step with creates, updates and deletes', async () => {
    await api.core.createNamespace({body: {metadata: {name: 'inf'}}})
    await api.core.createNamespacedPod({namespace: 'inf', body: podManifest('listed')})
    const informer = makeInformer<V1Pod>(api.kc, '/api/v1/namespaces/inf/pods', () => api.core.listNamespacedPod({namespace: 'inf'}))
    const deleted: string[] = []
    informer.on('delete', (p) => deleted.push(p.metadata!.name!))
    await informer.start()
    try {
      expect(informer.list('inf').map((p) => p.metadata!.name)).toEqual(['listed'])
      await api.core.createNamespacedPod({namespace: 'inf', body: podManifest('watched')})
      await api.core.patchNamespacedPodStatus({namespace: 'inf', name: 'watched', body: {status: {phase: 'Running'}}}, mergePatch)
      await api.core.deleteNamespacedPod({namespace: 'inf', name: 'listed'})
      await eventually(() => {
        expect(informer.get('watched', 'inf')?.status?.phase).toBe('Running')
        expect(deleted).toEqual(['listed'])
      })
    } finally {
      await informer.stop()
    }
  })
})

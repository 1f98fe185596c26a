import {CoreV1Api, type KubeConfig, makeInformer, PatchStrategy, setHeaderOptions, type V1Pod} from '@kubernetes/client-node'

/**
 * STAND-IN FOR THE KUBELET, for the controller tests only. The real loopback kubelet (src/sandbox/kubelet)
 * runs every pod as a real redis-server and has its own tests; here the controllers are under test, so this
 * does only the two things a kubelet does that the control loops depend on, through the API like a kubelet:
 * it marks pods bound to a node Running and Ready (status subresource, strategic merge patch), and deletes
 * terminating pods with grace period 0. It records when it first saw each pod and when it asked for
 * readiness, so that tests can check the order in which the controllers acted.
 */
export interface KubeletStandIn {
  /** Namespaces whose pods are run but never become Ready. */
  keepUnready: Set<string>
  /** ms timestamp at which each pod (by uid) was first seen, and at which it was about to be made Ready. */
  firstSeen: Map<string, number>
  readyRequested: Map<string, number>
  stop(): Promise<void>
}

const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)

export async function startKubeletStandIn(kc: KubeConfig, options: {readyDelayMs?: number} = {}): Promise<KubeletStandIn> {
  const core = kc.makeApiClient(CoreV1Api)
  const informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces())
  const handled = new Set<string>()
  const timers = new Set<NodeJS.Timeout>()
  const pending = new Set<Promise<unknown>>()
  const track = (work: Promise<unknown>) => {
    const settled = work.catch(() => undefined)
    pending.add(settled)
    void settled.finally(() => pending.delete(settled))
  }
  const standIn: KubeletStandIn = {
    keepUnready: new Set(),
    firstSeen: new Map(),
    readyRequested: new Map(),
    async stop() {
      await informer.stop()
      for (const timer of timers) clearTimeout(timer)
      await Promise.all([...pending])
    },
  }

  const makeReady = (pod: V1Pod) => {
    const {namespace = '', name = '', uid = ''} = pod.metadata ?? {}
    const ready = !standIn.keepUnready.has(namespace)
    if (ready) standIn.readyRequested.set(uid, Date.now())
    const now = new Date()
    const condition = (type: string, status: boolean) => ({type, status: status ? 'True' : 'False', lastTransitionTime: now})
    track(
      core.patchNamespacedPodStatus(
        {
          namespace,
          name,
          body: {
            status: {
              phase: 'Running',
              startTime: now,
              conditions: [condition('Initialized', true), condition('ContainersReady', ready), condition('Ready', ready)],
              containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
                name: c.name,
                image: c.image,
                imageID: '',
                ready,
                restartCount: 0,
                started: true,
                state: {running: {startedAt: now}},
              })),
            },
          },
        },
        strategicMergePatch,
      ),
    )
  }

  const onPod = (pod: V1Pod) => {
    const uid = pod.metadata?.uid ?? ''
    if (!standIn.firstSeen.has(uid)) standIn.firstSeen.set(uid, Date.now())
    if (!pod.spec?.nodeName) return
    if (pod.metadata?.deletionTimestamp) {
      if (handled.has(`deleted:${uid}`)) return
      handled.add(`deleted:${uid}`)
      const {namespace = '', name = ''} = pod.metadata
      track(core.deleteNamespacedPod({namespace, name, gracePeriodSeconds: 0}))
      return
    }
    if (handled.has(`started:${uid}`) || pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') return
    handled.add(`started:${uid}`)
    if (!options.readyDelayMs) return makeReady(pod)
    const timer = setTimeout(() => {
      timers.delete(timer)
      makeReady(pod)
    }, options.readyDelayMs)
    timers.add(timer)
  }
  informer.on('add', onPod)
  informer.on('update', onPod)
  await informer.start()
  return standIn
}

/** Polls every 20 ms until probe returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

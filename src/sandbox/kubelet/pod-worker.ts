import type {V1Container, V1Pod} from '@kubernetes/client-node'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'

import {MISSING_SERVER_MESSAGE, resolveServerCommand, serverOfBinary, serverOfImage} from './container-command.js'
import {ContainerRunner, type RunnerHost} from './container-runner.js'
import {envReferences, type ObjectSources} from './env.js'
import {type ImageMap, type Pull, pullImage} from './images.js'
import type {IpAllocator} from './ip-allocator.js'
import {isStatus, type KubeletApi} from './kube-api.js'
import {planLaunch, type LaunchPlan} from './launch.js'
import {podConditions, podPhase, type PodPhase, podStatusPatch} from './pod-status.js'
import {sleep} from './process.js'
import type {PodEndpoint} from './streaming-server.js'
import type {Mount} from './paths.js'
import {containerMounts, materialiseVolumes, refreshVolumes, VolumeError, volumeDirs, volumeReferences, type VolumeDirs} from './volumes.js'

export interface WorkerDeps {
  api: KubeletApi
  allocator: IpAllocator
  nodeName: string
  hostIp: string
  podsDir: string
  redisServerPath?: string
  /** The image map as it is now (read at every pull). */
  imageMap: () => Promise<ImageMap>
  log: (line: string) => void
}

/** Termination grace periods are capped so that the sandbox never waits 30 s for a pod to go. */
const MAX_GRACE_MS = 10_000
/** A pod deleted outright (no graceful deletion) gets this long to stop. */
const GONE_GRACE_MS = 2000
/**
 * How often a running pod's ConfigMap and Secret volumes are brought up to date. A kubelet takes up to its sync
 * period plus its cache's TTL (about a minute); the sandbox is quicker so that tests of a rotation stay short.
 */
const VOLUME_REFRESH_MS = 2000

type WorkerState = 'new' | 'running' | 'failed' | 'stopping' | 'done'

/** The runtime folder of a pod incarnation: logs, pid files, per-pod volumes. */
export const podDirName = (pod: V1Pod): string => `${pod.metadata!.namespace}_${pod.metadata!.name}_${pod.metadata!.uid}`

/**
 * One pod incarnation (uid) on this kubelet: its pod IP, its containers' runners, its status reports, and its
 * end (graceful deletion, removal, a terminal phase set by someone else, or the kubelet stopping).
 */
export class PodWorker {
  readonly uid: string
  private pod: V1Pod
  private state: WorkerState = 'new'
  private readonly podDir: string
  private podIp?: string
  private runners: ContainerRunner[] = []
  private readonly abort = new AbortController()
  private failure?: {reason: string; message: string}
  private startTime = new Date()
  private previousConditions: NonNullable<V1Pod['status']>['conditions'] = []
  private volumesLock: Promise<unknown> = Promise.resolve()
  /** The volume folders and every container's mounts, as the last launch set them up: what a refresh rewrites. */
  private volumes?: {dirs: VolumeDirs; mounts: Mount[]}
  private readonly warnings = new Set<string>()
  private reporting?: Promise<void>
  private dirty = false
  private silenced = false
  private steps: Promise<void> = Promise.resolve()

  constructor(
    pod: V1Pod,
    private readonly deps: WorkerDeps,
  ) {
    this.pod = pod
    this.uid = pod.metadata!.uid!
    this.podDir = join(deps.podsDir, podDirName(pod))
  }

  get name(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`
  }

  get nodeName(): string {
    return this.deps.nodeName
  }

  /** Where port-forwards to the pod go: its IP while its servers run (a pod stopped or failed has none). */
  endpoint(): PodEndpoint {
    return {uid: this.uid, ip: this.state === 'running' ? this.podIp : undefined}
  }

  /** Takes the latest pod object from the API and acts on it. */
  update(pod: V1Pod): Promise<void> {
    this.pod = pod
    return this.step(() => this.reconcile())
  }

  /** The pod object is gone from the API (deleted outright): stop its servers and free its folder. */
  gone(): Promise<void> {
    return this.step(async () => {
      if (this.state === 'done') return
      this.silenced = true
      await this.stopRunners(GONE_GRACE_MS)
      await this.release()
    })
  }

  /** The kubelet is stopping: stop the servers, keep folders and the API as they are. */
  shutdown(graceMs: number): Promise<void> {
    this.silenced = true
    this.abort.abort()
    return Promise.all(this.runners.map((r) => r.stop(graceMs))).then(() => {
      this.state = 'done'
    })
  }

  private step(work: () => Promise<void>): Promise<void> {
    this.steps = this.steps.then(work).catch((error: unknown) => this.deps.log(`pod ${this.name}: ${String(error)}`))
    return this.steps
  }

  private async reconcile(): Promise<void> {
    if (this.state === 'done' || this.state === 'stopping') return
    if (this.pod.metadata?.deletionTimestamp) return this.terminate()
    const phase = this.pod.status?.phase
    if ((phase === 'Failed' || phase === 'Succeeded') && this.state !== 'failed' && !this.endedByItself()) {
      this.deps.log(`pod ${this.name}: phase ${phase} set from outside, stopping its containers`)
      this.silenced = true
      this.state = 'failed'
      await this.stopRunners(MAX_GRACE_MS)
      return
    }
    if (this.state === 'new') await this.begin()
  }

  private endedByItself(): boolean {
    return this.failure !== undefined || (this.runners.length > 0 && ['Failed', 'Succeeded'].includes(this.phase()))
  }

  private async begin(): Promise<void> {
    this.state = 'running'
    const spec = this.pod.spec ?? {containers: []}
    if (this.pod.status?.startTime) this.startTime = new Date(this.pod.status.startTime)
    this.previousConditions = this.pod.status?.conditions ?? []
    if ((spec.initContainers ?? []).length > 0) {
      return this.fail('UnsupportedPod', "the sandbox's kubelet runs only redis-server containers and does not run init containers")
    }
    // A command names its process whatever the image; without one, only the pulled image says what runs.
    for (const container of spec.containers) {
      const command = resolveServerCommand(container)
      if (container.command?.length && !command.runnable) return this.fail('UnsupportedContainer', command.message)
    }
    this.podIp = await this.deps.allocator.acquire(this.uid)
    const host = this.runnerHost()
    this.runners = spec.containers.map((c) => new ContainerRunner(c, host, this.pod.status?.containerStatuses?.find((s) => s.name === c.name)))
    this.deps.log(`pod ${this.name}: pod IP ${this.podIp}`)
    this.changed()
    for (const runner of this.runners) runner.start()
    void this.refreshLoop()
  }

  /** Keeps the mounted ConfigMaps and Secrets current while the pod runs, as a kubelet does (atomically: volumes.ts). */
  private async refreshLoop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      await sleep(VOLUME_REFRESH_MS)
      if (this.abort.signal.aborted || this.state !== 'running' || !this.volumes) continue
      const {dirs, mounts} = this.volumes
      const work = this.volumesLock.then(async () => {
        const changed = await refreshVolumes(this.pod, dirs, mounts, await this.fetchSources({name: ''}))
        if (changed.length > 0) this.deps.log(`pod ${this.name}: updated volumes ${changed.join(', ')}`)
      })
      this.volumesLock = work.catch((error: unknown) => this.deps.log(`pod ${this.name}: volume refresh failed: ${String(error)}`))
      await this.volumesLock
    }
  }

  private runnerHost(): RunnerHost {
    const {name, namespace} = this.pod.metadata!
    return {
      podIp: this.podIp!,
      podRef: `${name}_${namespace}(${this.uid})`,
      restartPolicy: (this.pod.spec?.restartPolicy as RunnerHost['restartPolicy']) ?? 'Always',
      signal: this.abort.signal,
      pull: (container) => this.pull(container),
      plan: (container, binary) => this.plan(container, binary),
      changed: () => this.changed(),
      event: (type, reason, message, container) => this.event(type, reason, message, container),
    }
  }

  /** Pulls the container's image; a server that is not installed, or a process that is not a server, fails the pod. */
  private async pull(container: V1Container): Promise<Pull> {
    const named = resolveServerCommand(container)
    const server = named.runnable ? named.server : (serverOfImage(container.image) ?? 'redis-server')
    const pull = pullImage(container.image ?? '', server, await this.deps.imageMap(), this.deps.redisServerPath)
    if (!pull.ok) {
      if (!pull.notFound) this.fail('ServerNotInstalled', MISSING_SERVER_MESSAGE)
      return pull
    }
    const command = resolveServerCommand(container, serverOfBinary(pull.binary))
    if (command.runnable) return pull
    this.fail('UnsupportedContainer', command.message)
    return {ok: false, notFound: false}
  }

  /** Sets up the pod's volumes and plans a container's launch; volume work is one at a time per pod. */
  private plan(container: V1Container, binary: string): Promise<LaunchPlan | 'retry' | undefined> {
    const work = this.volumesLock.then(async (): Promise<LaunchPlan | 'retry' | undefined> => {
      try {
        const pod = this.pod
        const sources = await this.fetchSources(container)
        const claimPaths = new Map<string, string>()
        for (const claim of volumeReferences(pod).claims) {
          const path = await this.deps.api.claimPath(pod.metadata!.namespace!, claim)
          if (path !== undefined) claimPaths.set(claim, path)
        }
        const dirs = volumeDirs(pod, this.podDir, claimPaths)
        const allMounts = (pod.spec?.containers ?? []).flatMap((c) => containerMounts(c, dirs))
        await materialiseVolumes(pod, dirs, allMounts, sources)
        this.volumes = {dirs, mounts: allMounts}
        const command = resolveServerCommand(container, serverOfBinary(binary))
        const args = command.runnable ? command.args : []
        const mounts = containerMounts(container, dirs)
        return await planLaunch({pod, container, args, binary, podIp: this.podIp!, hostIp: this.deps.hostIp, podDir: this.podDir, mounts, sources})
      } catch (error) {
        if (error instanceof VolumeError && !error.retry) {
          this.fail('FailedMount', error.message)
          return undefined
        }
        const message = error instanceof Error ? error.message : String(error)
        this.warnOnce(error instanceof VolumeError ? 'FailedMount' : 'FailedPrepare', `Unable to prepare container ${container.name}: ${message}`)
        return 'retry'
      }
    })
    this.volumesLock = work.catch(() => undefined)
    return work
  }

  private async fetchSources(container: V1Container): Promise<ObjectSources> {
    const namespace = this.pod.metadata!.namespace!
    const fromVolumes = volumeReferences(this.pod)
    const fromEnv = envReferences(container)
    const configMapNames = [...new Set([...fromVolumes.configMaps, ...fromEnv.configMaps])]
    const secretNames = [...new Set([...fromVolumes.secrets, ...fromEnv.secrets])]
    const configMaps = await Promise.all(configMapNames.map((name) => this.deps.api.configMap(namespace, name)))
    const secrets = await Promise.all(secretNames.map((name) => this.deps.api.secret(namespace, name)))
    return {
      configMaps: new Map(configMapNames.map((name, i) => [name, configMaps[i]])),
      secrets: new Map(secretNames.map((name, i) => [name, secrets[i]])),
    }
  }

  /**
   * Gives up on the pod for good: phase Failed with the reason, and a Warning event saying why. The servers
   * are stopped in the background, as this may be called from a runner's own planning.
   */
  private fail(reason: string, message: string): void {
    this.failure = {reason, message}
    this.state = 'failed'
    this.deps.log(`pod ${this.name}: failed: ${message}`)
    this.event('Warning', 'Failed', message)
    this.changed()
    this.abort.abort()
    for (const runner of this.runners) void runner.stop(MAX_GRACE_MS)
  }

  /** Graceful deletion: stop the servers within the grace period, then remove the pod object. */
  private async terminate(): Promise<void> {
    const seconds = this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30
    const running = this.runners.filter((r) => r.pid !== undefined)
    for (const runner of running) this.event('Normal', 'Killing', `Stopping container ${runner.view.name}`)
    await this.stopRunners(Math.min(seconds * 1000, MAX_GRACE_MS))
    if (!this.silenced && this.runners.length > 0) {
      this.changed()
      await this.reporting
    }
    this.silenced = true
    await this.release()
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deps.api.deletePod(this.pod)
        return
      } catch (error) {
        if (attempt >= 20) throw error
        await sleep(250)
      }
    }
  }

  private async stopRunners(graceMs: number): Promise<void> {
    this.state = this.state === 'failed' ? 'failed' : 'stopping'
    this.abort.abort()
    await Promise.all(this.runners.map((r) => r.stop(graceMs)))
  }

  private async release(): Promise<void> {
    this.state = 'done'
    this.deps.api.forgetEvents(this.uid)
    await rm(this.podDir, {recursive: true, force: true})
    await this.deps.allocator.release([this.uid])
  }

  private phase(): PodPhase {
    if (this.failure) return 'Failed'
    return podPhase(this.runners.map((r) => r.view), (this.pod.spec?.restartPolicy as 'Always' | 'OnFailure' | 'Never') ?? 'Always')
  }

  /** Asks for a status report; reports coalesce, and the latest state is always the one sent. */
  private changed(): void {
    this.dirty = true
    this.reporting ??= this.report().finally(() => (this.reporting = undefined))
  }

  private async report(): Promise<void> {
    while (this.dirty && !this.silenced) {
      this.dirty = false
      const now = new Date()
      const view = {
        phase: this.phase(),
        reason: this.failure?.reason,
        message: this.failure?.message,
        hostIp: this.deps.hostIp,
        podIp: this.podIp,
        startTime: this.startTime,
        containers: this.runners.map((r) => structuredClone(r.view)),
        previousConditions: this.previousConditions ?? [],
      }
      const conditions = podConditions(view, now)
      try {
        await this.deps.api.patchPodStatus(this.pod, podStatusPatch(view, conditions))
        this.previousConditions = conditions
      } catch (error) {
        if (isStatus(error, 404)) return
        this.deps.log(`pod ${this.name}: status update failed: ${String(error)}`)
        this.dirty = true
        await sleep(500)
      }
    }
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void {
    this.deps.api.recordEvent(this.pod, this.deps.nodeName, type, reason, message, container).catch((error: unknown) => {
      this.deps.log(`pod ${this.name}: event ${reason} not recorded: ${String(error)}`)
    })
  }

  private warnOnce(reason: string, message: string): void {
    if (this.warnings.has(message)) return
    this.warnings.add(message)
    this.deps.log(`pod ${this.name}: ${message}`)
    this.event('Warning', reason, message)
  }
}

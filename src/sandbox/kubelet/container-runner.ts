import type {V1Container} from '@kubernetes/client-node'

import {backOffMs, goDuration} from './backoff.js'
import type {Pull} from './images.js'
import type {LaunchPlan} from './launch.js'
import type {ContainerView} from './pod-status.js'
import {probeSpec, runProbe, type ProbeSpec} from './probe.js'
import {type Exit, type ServerProcess, startServer} from './process.js'

/** What a container's runner needs from its pod. */
export interface RunnerHost {
  podIp: string
  /** The pod as the kubelet names it in messages (format.Pod): `name_namespace(uid)`. */
  podRef: string
  restartPolicy: 'Always' | 'OnFailure' | 'Never'
  signal: AbortSignal
  /** Finds the server binary the container's image stands for (the pod is failed when its server is not installed). */
  pull(container: V1Container): Promise<Pull>
  /** Sets up volumes and plans the launch of a binary; undefined when the pod was failed for good meanwhile. */
  plan(container: V1Container, binary: string): Promise<LaunchPlan | 'retry' | undefined>
  changed(): void
  /** An event about the pod, or about one of its containers when `container` is named (fieldPath). */
  event(type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void
}

const FAST_POLL_MS = 50
const RETRY_PREPARE_MS = 1000
/** How long a failed pull shows as ErrImagePull before the next pod sync finds it backing off. */
const PULL_SYNC_MS = 250
/** A container that ran this long before exiting is not crash-looping: its backoff starts over. */
const STABLE_RUN_MS = 10_000
const LIVENESS_KILL_GRACE_MS = 5000

/**
 * One container's life: pull its image (with the image back-off), start its server, probe it, restart it in place
 * when it exits (as restartPolicy says, with the crash-loop back-off), until the pod stops it.
 */
export class ContainerRunner {
  readonly view: ContainerView
  private process?: ServerProcess
  private loop?: Promise<void>
  /** Added to restartCount at the next start: 0 only before the first start of a fresh container. */
  private restarts: number
  private stopGraceMs = 0

  constructor(
    private readonly container: V1Container,
    private readonly host: RunnerHost,
    previous?: {restartCount?: number; containerID?: string},
  ) {
    this.view = {
      name: container.name,
      image: container.image ?? '',
      state: {kind: 'waiting', reason: 'ContainerCreating'},
      restartCount: previous?.restartCount ?? 0,
      ready: false,
    }
    // A container that a previous kubelet ran was killed with it: starting it again is a restart.
    this.restarts = previous?.containerID ? 1 : 0
  }

  get pid(): number | undefined {
    return this.process?.pid
  }

  start(): void {
    this.loop ??= this.run()
  }

  /**
   * Stops the server (SIGTERM, SIGKILL after graceMs) and waits for the runner to finish. The pod's abort
   * signal must be raised first, so that the runner starts nothing new.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopGraceMs = graceMs
    await this.process?.stop(graceMs)
    await this.loop
  }

  /** Kills the server for a failed liveness probe; the runner restarts it. */
  private async kill(graceMs: number): Promise<void> {
    await this.process?.stop(graceMs)
  }

  private async run(): Promise<void> {
    let crashes = 0
    while (!this.host.signal.aborted) {
      const binary = await this.pulled()
      if (binary === undefined) return
      const plan = await this.host.plan(this.container, binary)
      if (plan === undefined || this.host.signal.aborted) return
      if (plan === 'retry' || !plan.ok) {
        if (plan !== 'retry') this.setWaiting('CreateContainerConfigError', plan.message)
        await this.pause(RETRY_PREPARE_MS)
        continue
      }
      const startedAt = new Date()
      const process = await startServer(plan.launch)
      this.process = process
      if (this.host.signal.aborted) {
        // Stopped while the server was being spawned: stop() could not see it yet.
        await process.stop(this.stopGraceMs)
        return
      }
      this.view.restartCount += this.restarts
      this.restarts = 1
      this.view.containerId = `sandbox://${process.pid}`
      this.view.state = {kind: 'running', startedAt}
      this.host.changed()
      this.host.event('Normal', 'Started', `Started container ${this.container.name} (pid ${process.pid})`, this.container.name)
      this.watchHealth(process, plan.port)
      const exit = await process.exited
      this.process = undefined
      const finishedAt = new Date()
      this.view.ready = false
      const terminated = {kind: 'terminated' as const, ...exit, startedAt, finishedAt}
      if (this.host.signal.aborted || !this.shouldRestart(exit)) {
        this.view.state = terminated
        this.host.changed()
        return
      }
      crashes = finishedAt.getTime() - startedAt.getTime() > STABLE_RUN_MS ? 0 : crashes
      // As doBackOff: the first restart is immediate, each further one waits the next back-off.
      const delay = crashes === 0 ? 0 : backOffMs(crashes)
      crashes += 1
      this.view.lastTerminated = {...terminated, containerId: this.view.containerId}
      if (delay > 0) {
        const name = this.container.name
        this.view.state = {kind: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${goDuration(delay)} restarting failed container=${name} pod=${this.host.podRef}`}
        this.host.event('Warning', 'BackOff', `Back-off restarting failed container ${name} in pod ${this.host.podRef}`, name)
      } else {
        this.view.state = terminated
      }
      this.host.changed()
      await this.pause(delay)
    }
  }

  /**
   * EnsureImageExists, until the image is there: each failed pull shows ErrImagePull with the runtime's error, then
   * ImagePullBackOff until the back-off has passed, with the events a kubelet records. Undefined when the pod stops.
   */
  private async pulled(): Promise<string | undefined> {
    const {name, image = ''} = this.container
    for (let failures = 1; !this.host.signal.aborted; failures++) {
      const pull = await this.host.pull(this.container)
      if (pull.ok) return pull.binary
      if (!pull.notFound || this.host.signal.aborted) return undefined
      if (this.container.imagePullPolicy === 'Never') {
        const message = `Container image "${image}" is not present with pull policy of Never`
        this.host.event('Warning', 'ErrImageNeverPull', message, name)
        this.host.event('Warning', 'Failed', 'Error: ErrImageNeverPull', name)
        this.setWaiting('ErrImageNeverPull', message)
        await this.pause(backOffMs(failures))
        continue
      }
      this.host.event('Normal', 'Pulling', `Pulling image "${image}"`, name)
      this.host.event('Warning', 'Failed', `Failed to pull image "${image}": ${pull.message}`, name)
      this.host.event('Warning', 'Failed', 'Error: ErrImagePull', name)
      this.setWaiting('ErrImagePull', pull.message)
      const backOff = backOffMs(failures)
      await this.pause(Math.min(PULL_SYNC_MS, backOff))
      if (this.host.signal.aborted) return undefined
      const message = `Back-off pulling image "${image}"`
      this.host.event('Normal', 'BackOff', message, name)
      this.host.event('Warning', 'Failed', 'Error: ImagePullBackOff', name)
      this.setWaiting('ImagePullBackOff', message)
      await this.pause(backOff - PULL_SYNC_MS)
    }
    return undefined
  }

  private setWaiting(reason: string, message: string): void {
    if (this.view.state.kind === 'waiting' && this.view.state.message === message) return
    this.view.state = {kind: 'waiting', reason, message}
    this.host.changed()
  }

  private shouldRestart(exit: Exit): boolean {
    return this.host.restartPolicy === 'Always' || (this.host.restartPolicy === 'OnFailure' && exit.exitCode !== 0)
  }

  /**
   * Readiness (PING, or the container's readinessProbe), polled fast until the server first answers and then
   * every periodSeconds; and the livenessProbe, when there is one, which kills the server after
   * failureThreshold misses in a row. Both end with the process.
   */
  private watchHealth(process: ServerProcess, port: number): void {
    const readiness = probeSpec(this.container.readinessProbe, this.container, port)
    void this.poll(process, readiness, true, (ok, failures) => {
      const ready = ok ? true : this.view.ready && failures < readiness.failureThreshold
      if (ready !== this.view.ready && this.process === process) {
        this.view.ready = ready
        this.host.changed()
      }
      return this.view.ready
    })
    if (!this.container.livenessProbe) return
    const liveness = probeSpec(this.container.livenessProbe, this.container, port)
    void this.poll(process, liveness, false, (ok, failures) => {
      if (!ok && failures === liveness.failureThreshold) {
        this.host.event('Warning', 'Unhealthy', `Liveness probe failed ${failures} times; restarting container ${this.container.name}`, this.container.name)
        void this.kill(LIVENESS_KILL_GRACE_MS)
      }
      return ok
    })
  }

  /** Runs a probe until the process ends; fast (50 ms) until the judge first says yes when `fastStart`. */
  private async poll(process: ServerProcess, spec: ProbeSpec, fastStart: boolean, judge: (ok: boolean, failures: number) => boolean): Promise<void> {
    let running = true
    void process.exited.then(() => (running = false))
    let settled = !fastStart
    let failures = 0
    await this.pause(spec.initialDelayMs, process)
    while (running && !this.host.signal.aborted) {
      const ok = await runProbe(spec, this.host.podIp)
      if (!running) return
      failures = ok ? 0 : failures + 1
      settled = judge(ok, failures) || settled
      await this.pause(settled ? spec.periodMs : FAST_POLL_MS, process)
    }
  }

  /** Waits, ending early when the pod stops or (when given) the process exits. */
  private pause(ms: number, process?: ServerProcess): Promise<void> {
    if (ms <= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.host.signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.host.signal.addEventListener('abort', done, {once: true})
      void process?.exited.then(done)
    })
  }
}

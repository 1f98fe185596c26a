import type {V1PodCondition} from '@kubernetes/client-node'

export type ContainerState =
  | {kind: 'waiting'; reason: string; message?: string}
  | {kind: 'running'; startedAt: Date}
  | {kind: 'terminated'; exitCode: number; reason: string; message?: string; signal?: number; startedAt?: Date; finishedAt: Date}

/** What the kubelet knows about one container of a pod. */
export interface ContainerView {
  name: string
  image: string
  state: ContainerState
  /** The previous run, once the container has been restarted. */
  lastTerminated?: Extract<ContainerState, {kind: 'terminated'}> & {containerId?: string}
  restartCount: number
  ready: boolean
  containerId?: string
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed'

/** What the kubelet knows about a pod, turned into pods/status by podStatusPatch. */
export interface PodView {
  phase: PodPhase
  /** Pod-level reason and message, for a pod the kubelet gave up on. */
  reason?: string
  message?: string
  hostIp: string
  podIp?: string
  startTime: Date
  containers: ContainerView[]
  /** The conditions last reported, so that lastTransitionTime moves only when a status flips. */
  previousConditions: V1PodCondition[]
}

/**
 * The conditions for a pod, keeping each condition's lastTransitionTime while its status is unchanged,
 * as kube-controller-manager reads them (StatefulSet readiness, minReadySeconds).
 */
export function podConditions(view: PodView, now: Date): V1PodCondition[] {
  const unready = view.containers.filter((c) => !c.ready).map((c) => c.name)
  const allReady = view.phase === 'Running' && unready.length === 0
  const notReady = view.phase === 'Failed' || view.phase === 'Succeeded' ? {reason: 'PodCompleted'} : {reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]`}
  const wanted: Omit<V1PodCondition, 'lastTransitionTime'>[] = [
    {type: 'PodScheduled', status: 'True'},
    {type: 'Initialized', status: 'True'},
    allReady ? {type: 'ContainersReady', status: 'True'} : {type: 'ContainersReady', status: 'False', ...notReady},
    allReady ? {type: 'Ready', status: 'True'} : {type: 'Ready', status: 'False', ...notReady},
  ]
  return wanted.map((condition) => {
    const previous = view.previousConditions.find((c) => c.type === condition.type)
    const since = previous && previous.status === condition.status && previous.lastTransitionTime ? new Date(previous.lastTransitionTime) : now
    return {...condition, lastTransitionTime: since}
  })
}

/**
 * The body of a strategic merge patch on pods/status. Fields that no longer apply are sent as null so that
 * the merge removes them (a container moving from running to waiting must lose `running`); lists are sent
 * whole, which is correct under both strategic and JSON merge semantics.
 */
export function podStatusPatch(view: PodView, conditions: V1PodCondition[]): {status: Record<string, unknown>} {
  return {
    status: {
      phase: view.phase,
      reason: view.reason ?? null,
      message: view.message ?? null,
      hostIP: view.hostIp,
      hostIPs: [{ip: view.hostIp}],
      podIP: view.podIp ?? null,
      podIPs: view.podIp ? [{ip: view.podIp}] : null,
      startTime: view.startTime.toISOString(),
      qosClass: 'BestEffort',
      conditions: conditions.map((c) => ({...c, lastTransitionTime: toIso(c.lastTransitionTime)})),
      containerStatuses: view.containers.map(containerStatus),
    },
  }
}

function containerStatus(container: ContainerView): Record<string, unknown> {
  const {state} = container
  return {
    name: container.name,
    image: container.image,
    imageID: '',
    containerID: container.containerId ?? null,
    ready: container.ready,
    started: state.kind === 'running',
    restartCount: container.restartCount,
    state: {
      waiting: state.kind === 'waiting' ? {reason: state.reason, message: state.message} : null,
      running: state.kind === 'running' ? {startedAt: state.startedAt.toISOString()} : null,
      terminated: state.kind === 'terminated' ? terminated(state) : null,
    },
    lastState: {terminated: container.lastTerminated ? {...terminated(container.lastTerminated), containerID: container.lastTerminated.containerId} : null},
  }
}

function terminated(state: Extract<ContainerState, {kind: 'terminated'}>): Record<string, unknown> {
  return {
    exitCode: state.exitCode,
    signal: state.signal,
    reason: state.reason,
    message: state.message,
    startedAt: state.startedAt?.toISOString(),
    finishedAt: state.finishedAt.toISOString(),
  }
}

const toIso = (time: Date | string | undefined): string | undefined => (time instanceof Date ? time.toISOString() : time)

/**
 * The pod phase from its containers, as the kubelet derives it: Running once a container runs (or has run
 * and will be restarted), Succeeded or Failed when every container has ended for good, else Pending.
 */
export function podPhase(containers: readonly ContainerView[], restartPolicy: 'Always' | 'OnFailure' | 'Never'): PodPhase {
  const ended = (c: ContainerView) =>
    c.state.kind === 'terminated' && (restartPolicy === 'Never' || (restartPolicy === 'OnFailure' && c.state.exitCode === 0))
  if (containers.length > 0 && containers.every(ended)) {
    return containers.every((c) => c.state.kind === 'terminated' && c.state.exitCode === 0) ? 'Succeeded' : 'Failed'
  }
  if (containers.some((c) => c.state.kind === 'running' || c.lastTerminated || c.state.kind === 'terminated')) return 'Running'
  return 'Pending'
}

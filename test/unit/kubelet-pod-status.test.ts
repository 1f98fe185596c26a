import {describe, expect, it} from 'vitest'

import {type ContainerView, podConditions, podPhase, type PodView, podStatusPatch} from '../../src/sandbox/kubelet/pod-status.js'
import {probeSpec} from '../../src/sandbox/kubelet/probe.js'

const started = new Date('2026-01-01T00:00:00Z')
const running = (ready: boolean): ContainerView => ({name: 'redis', image: 'redis:7', state: {kind: 'running', startedAt: started}, restartCount: 0, ready, containerId: 'sandbox://42'})
const view = (containers: ContainerView[], previousConditions: PodView['previousConditions'] = []): PodView => ({
  phase: podPhase(containers, 'Always'),
  hostIp: '127.0.1.1',
  podIp: '127.64.0.5',
  startTime: started,
  containers,
  previousConditions,
})

describe('pod phase', () => {
  it('is Pending until a container runs', () => {
    expect(podPhase([{name: 'r', image: 'i', state: {kind: 'waiting', reason: 'ContainerCreating'}, restartCount: 0, ready: false}], 'Always')).toBe('Pending')
  })

  it('is Running while a container runs', () => {
    expect(podPhase([running(false)], 'Always')).toBe('Running')
  })

  it('stays Running during a crash-loop backoff', () => {
    const waiting: ContainerView = {...running(false), state: {kind: 'waiting', reason: 'CrashLoopBackOff'}, lastTerminated: {kind: 'terminated', exitCode: 1, reason: 'Error', finishedAt: started}}
    expect(podPhase([waiting], 'Always')).toBe('Running')
  })

  it('is Failed when a container that will not restart ended badly', () => {
    const ended: ContainerView = {...running(false), state: {kind: 'terminated', exitCode: 137, reason: 'Error', finishedAt: started}}
    expect(podPhase([ended], 'Never')).toBe('Failed')
  })
})

describe('pod conditions', () => {
  it('are all True once every container is ready', () => {
    const conditions = podConditions(view([running(true)]), new Date())
    expect(conditions.map((c) => [c.type, c.status])).toEqual([
      ['PodScheduled', 'True'],
      ['Initialized', 'True'],
      ['ContainersReady', 'True'],
      ['Ready', 'True'],
    ])
  })

  it('say which containers are not ready', () => {
    const ready = podConditions(view([running(false)]), new Date()).find((c) => c.type === 'Ready')
    expect(ready).toMatchObject({status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [redis]'})
  })

  it('keep lastTransitionTime while the status does not change', () => {
    const earlier = new Date('2026-01-01T00:00:05Z')
    const first = podConditions(view([running(true)]), earlier)
    const second = podConditions(view([running(true)], first), new Date('2026-01-01T00:01:00Z'))
    expect(second.find((c) => c.type === 'Ready')?.lastTransitionTime).toEqual(earlier)
  })

  it('move lastTransitionTime when readiness flips', () => {
    const first = podConditions(view([running(true)]), new Date('2026-01-01T00:00:05Z'))
    const later = new Date('2026-01-01T00:01:00Z')
    const second = podConditions(view([running(false)], first), later)
    expect(second.find((c) => c.type === 'Ready')?.lastTransitionTime).toEqual(later)
  })
})

describe('the pods/status patch', () => {
  it('reports IPs, start time and a running container, clearing the other states', () => {
    const body = podStatusPatch(view([running(true)]), [])
    expect(body.status).toMatchObject({phase: 'Running', podIP: '127.64.0.5', podIPs: [{ip: '127.64.0.5'}], hostIP: '127.0.1.1', startTime: started.toISOString()})
    expect(body.status.containerStatuses).toEqual([
      expect.objectContaining({
        name: 'redis',
        ready: true,
        started: true,
        restartCount: 0,
        containerID: 'sandbox://42',
        state: {running: {startedAt: started.toISOString()}, waiting: null, terminated: null},
        lastState: {terminated: null},
      }),
    ])
  })
})

describe('probes in the sandbox', () => {
  it('are a PING of the server port when there is no probe, polled every 10 s once settled', () => {
    expect(probeSpec(undefined, {}, 7000)).toMatchObject({kind: 'ping', port: 7000, periodMs: 10_000})
  })

  it('connect to a named tcpSocket port', () => {
    expect(probeSpec({tcpSocket: {port: 'redis'}, periodSeconds: 2}, {ports: [{name: 'redis', containerPort: 6380}]}, 6379)).toMatchObject({kind: 'tcp', port: 6380, periodMs: 2000})
  })

  it('read the port of a redis-cli exec probe', () => {
    expect(probeSpec({exec: {command: ['sh', '-c', 'redis-cli -p 7001 ping | grep PONG']}}, {}, 6379)).toMatchObject({kind: 'ping', port: 7001})
  })
})

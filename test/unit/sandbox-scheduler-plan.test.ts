import type {V1Node, V1Pod, V1PodAffinityTerm} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {parseQuantity} from '../../src/sandbox/controllers/quantity.js'
import {claimsReadiness, preFilterFitError, schedule} from '../../src/sandbox/controllers/scheduler-plan.js'
import {defaultStorageClass} from '../../src/sandbox/controllers/volume-plan.js'

function node(name: string, zone: string, extra: {labels?: Record<string, string>; pods?: string; unschedulable?: boolean} = {}): V1Node {
  return {
    metadata: {name, labels: {'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone, ...extra.labels}},
    spec: extra.unschedulable ? {unschedulable: true} : {},
    status: {allocatable: {cpu: '4', memory: '8Gi', ...(extra.pods ? {pods: extra.pods} : {})}},
  }
}

const requesting = (requests: Record<string, string>): V1Pod['spec'] => ({containers: [{name: 'redis', resources: {requests}}]})

const threeZones = [node('node-a', 'zone-a'), node('node-b', 'zone-b'), node('node-c', 'zone-c')]

function pod(name: string, options: {labels?: Record<string, string>; owner?: string; spec?: V1Pod['spec']} = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'db',
      labels: options.labels ?? {app: 'redis'},
      ...(options.owner ? {ownerReferences: [{apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'redis', uid: options.owner, controller: true}]} : {}),
    },
    spec: {containers: [], ...options.spec},
  }
}

const onePerHost: V1PodAffinityTerm = {topologyKey: 'kubernetes.io/hostname', labelSelector: {matchLabels: {app: 'redis'}}}

function antiAffinity(term: V1PodAffinityTerm): V1Pod['spec'] {
  return {containers: [], affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [term]}}}
}

function placeAll(pods: V1Pod[], nodes: V1Node[]): Map<string, V1Pod[]> {
  const byNode = new Map<string, V1Pod[]>()
  for (const p of pods) {
    const placement = schedule(p, nodes, byNode)
    if (!('node' in placement)) throw new Error(placement.unschedulable)
    byNode.set(placement.node, [...(byNode.get(placement.node) ?? []), p])
  }
  return byNode
}

describe('scheduler placement', () => {
  it('spreads the pods of one StatefulSet evenly over three nodes in three zones', () => {
    const pods = [0, 1, 2, 3, 4, 5].map((i) => pod(`redis-${i}`, {owner: 'set'}))
    const byNode = placeAll(pods, threeZones)
    expect([...byNode.values()].map((p) => p.length)).toEqual([2, 2, 2])
  })

  it('prefers the zone without a sibling when nodes share zones', () => {
    const nodes = [node('node-a1', 'zone-a'), node('node-a2', 'zone-a'), node('node-b1', 'zone-b')]
    const byNode = new Map([['node-a1', [pod('redis-0', {owner: 'set'})]]])
    expect(schedule(pod('redis-1', {owner: 'set'}), nodes, byNode)).toEqual({node: 'node-b1'})
  })

  it('honours spec.nodeSelector', () => {
    const nodes = [node('node-a', 'zone-a'), node('node-b', 'zone-b', {labels: {disk: 'ssd'}})]
    expect(schedule(pod('p', {spec: {containers: [], nodeSelector: {disk: 'ssd'}}}), nodes, new Map())).toEqual({node: 'node-b'})
  })

  it('honours required node affinity expressions', () => {
    const spec: V1Pod['spec'] = {
      containers: [],
      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-c']}]}]}}},
    }
    expect(schedule(pod('p', {spec}), threeZones, new Map())).toEqual({node: 'node-c'})
  })

  it('keeps pods with required hostname anti-affinity on different nodes', () => {
    const pods = [0, 1, 2].map((i) => pod(`redis-${i}`, {spec: antiAffinity(onePerHost)}))
    const byNode = placeAll(pods, threeZones)
    expect([...byNode.values()].map((p) => p.length)).toEqual([1, 1, 1])
  })

  it('leaves a fourth anti-affine pod unschedulable with kube-scheduler message', () => {
    const byNode = new Map(threeZones.map((n, i) => [n.metadata!.name!, [pod(`redis-${i}`, {spec: antiAffinity(onePerHost)})]]))
    expect(schedule(pod('redis-3', {spec: antiAffinity(onePerHost)}), threeZones, byNode)).toEqual({
      unschedulable:
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    })
  })

  it('applies zone anti-affinity to every node of a zone', () => {
    const nodes = [node('node-a1', 'zone-a'), node('node-a2', 'zone-a'), node('node-b1', 'zone-b')]
    const term = {...onePerHost, topologyKey: 'topology.kubernetes.io/zone'}
    const byNode = new Map([['node-a1', [pod('redis-0', {spec: antiAffinity(term)})]]])
    expect(schedule(pod('redis-1', {spec: antiAffinity(term)}), nodes, byNode)).toEqual({node: 'node-b1'})
  })

  it('refuses a node whose existing pod repels the newcomer, even when the newcomer has no rules', () => {
    const nodes = [node('node-a', 'zone-a'), node('node-b', 'zone-b')]
    const byNode = new Map([
      ['node-a', [pod('guard', {labels: {role: 'guard'}, spec: antiAffinity(onePerHost)})]],
      ['node-b', [pod('other-1', {labels: {role: 'x'}}), pod('other-2', {labels: {role: 'x'}})]],
    ])
    expect(schedule(pod('redis-0'), nodes, byNode)).toEqual({node: 'node-b'})
  })

  it('only counts pods of the namespaces a term names', () => {
    const byNode = new Map(threeZones.map((n, i) => [n.metadata!.name!, [{...pod(`other-${i}`), metadata: {name: `other-${i}`, namespace: 'elsewhere', labels: {app: 'redis'}}}]]))
    expect('node' in schedule(pod('redis-0', {spec: antiAffinity(onePerHost)}), threeZones, byNode)).toBe(true)
  })

  it('follows preferred anti-affinity when it can', () => {
    const spec: V1Pod['spec'] = {containers: [], affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 100, podAffinityTerm: onePerHost}]}}}
    const byNode = new Map([
      ['node-a', [pod('redis-0')]],
      ['node-b', [pod('redis-1')]],
      ['node-c', [pod('x-1', {labels: {app: 'x'}}), pod('x-2', {labels: {app: 'x'}}), pod('x-3', {labels: {app: 'x'}})]],
    ])
    expect(schedule(pod('redis-2', {spec}), threeZones, byNode)).toEqual({node: 'node-c'})
  })

  it('respects the pods capacity of a node', () => {
    const nodes = [node('node-a', 'zone-a', {pods: '1'}), node('node-b', 'zone-b', {pods: '1'})]
    const byNode = new Map([
      ['node-a', [pod('x')]],
      ['node-b', [pod('y')]],
    ])
    expect(schedule(pod('z'), nodes, byNode)).toEqual({
      unschedulable: '0/2 nodes are available: 2 Too many pods. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    })
  })

  it('lists each reason with its count, sorted, and says when preemption cannot help', () => {
    const nodes = [node('node-a', 'zone-a', {unschedulable: true}), node('node-b', 'zone-b'), node('node-c', 'zone-c')]
    const byNode = new Map([
      ['node-b', [pod('redis-0')]],
      ['node-c', [pod('redis-1')]],
    ])
    expect(schedule(pod('redis-2', {spec: antiAffinity(onePerHost)}), nodes, byNode)).toEqual({
      unschedulable:
        "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
    })
  })

  it('says there are no nodes when there are none', () => {
    expect(schedule(pod('p'), [], new Map())).toEqual({unschedulable: 'no nodes available to schedule pods'})
  })
})

describe('scheduler resources and claims', () => {
  it('reads Kubernetes quantities', () => {
    expect([parseQuantity('500m'), parseQuantity('2'), parseQuantity('1Gi'), parseQuantity('64M'), parseQuantity('1e3'), parseQuantity('lots')]).toEqual([
      0.5, 2, 2 ** 30, 64e6, 1000, undefined,
    ])
  })

  it('places a pod on the node that still has the memory it requests', () => {
    const byNode = new Map([
      ['node-a', [pod('big-a', {spec: requesting({memory: '6Gi'})})]],
      ['node-b', [pod('big-b', {spec: requesting({memory: '6Gi'})})]],
    ])
    expect(schedule(pod('p', {spec: requesting({memory: '4Gi'})}), threeZones, byNode)).toEqual({node: 'node-c'})
  })

  it('leaves a pod that requests more memory and cpu than any node has unschedulable, with both reasons counted', () => {
    expect(schedule(pod('p', {spec: requesting({memory: '64Gi', cpu: '16'})}), threeZones, new Map())).toEqual({
      unschedulable:
        '0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    })
  })

  it('says a claim is missing, or unbound with nothing to bind it, as the VolumeBinding pre-filter does', () => {
    const bound = {metadata: {name: 'bound'}, status: {phase: 'Bound'}}
    const typo = {metadata: {name: 'typo'}, spec: {storageClassName: 'nosuch'}, status: {phase: 'Pending'}}
    const claims = new Map<string, object>([['bound', bound], ['typo', typo]])
    const lookup = (name: string) => claims.get(name)
    expect(claimsReadiness(['bound', 'gone'], lookup, [defaultStorageClass])).toEqual({unschedulable: 'persistentvolumeclaim "gone" not found'})
    expect(claimsReadiness(['bound', 'typo'], lookup, [defaultStorageClass])).toEqual({unschedulable: 'pod has unbound immediate PersistentVolumeClaims'})
    expect(preFilterFitError(3, 'pod has unbound immediate PersistentVolumeClaims')).toBe(
      '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    )
  })

  it('waits without a word for a claim the provisioner is about to bind', () => {
    const pending = {metadata: {name: 'data'}, spec: {storageClassName: 'standard'}, status: {phase: 'Pending'}}
    expect(claimsReadiness(['data'], () => pending, [defaultStorageClass])).toEqual({waiting: true})
  })
})

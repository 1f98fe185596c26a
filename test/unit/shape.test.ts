import {describe, expect, it} from 'vitest'

import {UsageError} from '../../src/errors.js'
import {buildTopology} from '../../src/topology/model.js'
import {requireValidShape, shapeForPods, shapeOf, wantedShape} from '../../src/topology/shape.js'
import {formedCluster, nodeId, observe, pod, type NodeState} from '../support/observations.js'

const shapeOfStates = (states: NodeState[]) => shapeOf(buildTopology(states.map((s) => s.pod), observe(states)))

/** The formed 3x1 cluster with a second replica for each master (redis-6..8): 3x2. */
function threeByTwo(): NodeState[] {
  const states = formedCluster()
  const extra = [6, 7, 8].map((i): NodeState => ({pod: pod(i, 'd'), id: nodeId(`n${i}`), replicaOf: nodeId(`n${i - 6}`), knows: 'all'}))
  return [...states, ...extra]
}

describe('cluster shape', () => {
  it('accepts 3 masters with 1 replica each', () => {
    expect(requireValidShape({masters: 3, replicasPerMaster: 1})).toEqual({masters: 3, replicasPerMaster: 1})
  })

  it('refuses fewer than 3 masters with a usage error that says the minimum', () => {
    expect(() => requireValidShape({masters: 2, replicasPerMaster: 1})).toThrow(/at least 3 masters/)
    expect(() => requireValidShape({masters: 2, replicasPerMaster: 1})).toThrow(UsageError)
  })

  it('refuses a negative replica count', () => {
    expect(() => requireValidShape({masters: 3, replicasPerMaster: -1})).toThrow(/0 or more/)
  })

  it('derives the masters from the pods of an adopted StatefulSet', () => {
    expect(shapeForPods(8, 1)).toEqual({masters: 4, replicasPerMaster: 1})
  })

  it('refuses an odd pod count for one replica per master', () => {
    expect(() => shapeForPods(7, 1)).toThrow(/multiple of 2/)
  })

  it('refuses pods that would give fewer than 3 masters', () => {
    expect(() => shapeForPods(4, 1)).toThrow(/at least 3 masters/)
  })

  it('refuses --masters that disagrees with the pod count', () => {
    expect(() => shapeForPods(6, 1, 4)).toThrow(/need 8/)
  })

  it('reads 3 masters with 2 replicas each from a 3x2 cluster', () => {
    expect(shapeOfStates(threeByTwo())).toEqual({masters: 3, replicasPerMaster: 2})
  })

  it('keeps the most replicas a master has, so that one replica missing a moment (or a scale out halfway) lowers nothing', () => {
    const states = threeByTwo().filter((s) => s.pod.pod !== 'redis-8')
    expect(shapeOfStates(states)).toEqual({masters: 3, replicasPerMaster: 2})
  })

  it('counts only masters that own slots: an empty master joined by node add is not yet one of the shape\'s', () => {
    const states: NodeState[] = [...formedCluster(), {pod: pod(6, 'd'), id: nodeId('n6'), knows: 'all'}]
    expect(shapeOfStates(states)).toEqual({masters: 3, replicasPerMaster: 1})
  })

  it('takes a flag left out from the cluster: --masters 4 on 4x2 is 4x2, --replicas-per-master 1 on 4x2 is 4x1', () => {
    expect(wantedShape({masters: 4}, {masters: 4, replicasPerMaster: 2})).toEqual({masters: 4, replicasPerMaster: 2})
    expect(wantedShape({replicasPerMaster: 1}, {masters: 4, replicasPerMaster: 2})).toEqual({masters: 4, replicasPerMaster: 1})
  })

  it('still refuses fewer than 3 masters when a flag left out comes from the cluster', () => {
    expect(() => wantedShape({masters: 2}, {masters: 4, replicasPerMaster: 2})).toThrow(UsageError)
  })
})

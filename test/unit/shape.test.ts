import {describe, expect, it} from 'vitest'

import {UsageError} from '../../src/errors.js'
import {requireValidShape, shapeForPods} from '../../src/topology/shape.js'

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
})

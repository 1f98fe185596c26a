import {describe, expect, it} from 'vitest'

import {UsageError} from '../../src/errors.js'
import {buildTopology} from '../../src/topology/model.js'
import {planPodReshard} from '../../src/topology/reshard-plan.js'
import {formedCluster, observe} from '../support/observations.js'

const topology = () => {
  const states = formedCluster()
  return buildTopology(states.map((s) => s.pod), observe(states))
}

describe('planning slots reshard from pod names', () => {
  it('refuses a replica as --from with a usage error naming its master and the masters to choose from', () => {
    expect(() => planPodReshard(topology(), {from: 'redis-3'})).toThrow(UsageError)
    expect(() => planPodReshard(topology(), {from: 'redis-3'})).toThrow('--from redis-3 is a replica of redis-0: only masters own slots, so nothing was moved.')
  })

  it('refuses a replica as --to the same way', () => {
    expect(() => planPodReshard(topology(), {from: 'redis-0', to: 'redis-4'})).toThrow('--to redis-4 is a replica of redis-1')
  })

  it('refuses the same pod as --from and --to', () => {
    expect(() => planPodReshard(topology(), {from: 'redis-0', to: 'redis-0'})).toThrow('--from and --to name the same master.')
  })

  it('moves every slot of --from to the other masters when no --to is given', () => {
    const moves = planPodReshard(topology(), {from: 'redis-0'})
    expect(moves.reduce((n, m) => n + m.slots.reduce((k, r) => k + r.end - r.start + 1, 0), 0)).toBe(5461)
  })
})

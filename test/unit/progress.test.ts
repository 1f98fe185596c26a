import {describe, expect, it} from 'vitest'

import type {PlanProgress} from '../../src/redis/execute-moves.js'
import {clusterOkProgress} from '../../src/redis/form.js'
import {movesProgress} from '../../src/workflows/progress.js'

const at = (slotsDone: number): PlanProgress =>
  ({movesDone: 0, movesTotal: 3, slotsDone, slotsTotal: 4096, keysMoved: slotsDone * 10, keysPerSecond: 5000})

describe('progress lines of a slot move', () => {
  /** Feeds reports at the given times (ms) and returns the lines the task showed. */
  function lines(reports: Array<[ms: number, p: PlanProgress]>): string[] {
    const shown: string[] = []
    let clock = 0
    const task = {
      get output(): string | undefined { return shown.at(-1) },
      set output(line: string | undefined) { if (line !== undefined) shown.push(line) },
    }
    const report = movesProgress(task, () => clock)
    for (const [ms, p] of reports) {
      clock = ms
      report(p)
    }
    return shown
  }

  it('prints a line a second at most', () => {
    expect(lines([[0, at(100)], [300, at(200)], [1100, at(300)]])).toEqual([
      '100/4096 slots, 1000 keys moved, 5000 keys/s, about 8 s left',
      '300/4096 slots, 3000 keys moved, 5000 keys/s, about 8 s left',
    ])
  })

  it('prints nothing once every slot has moved, however many moves report the end', () => {
    expect(lines([[0, at(4000)], [1500, at(4096)], [3000, at(4096)], [4500, at(4096)]])).toEqual([
      '4000/4096 slots, 40000 keys moved, 5000 keys/s, about 1 s left',
    ])
  })
})

describe('progress of the wait for cluster_state:ok', () => {
  it('reads as how far it has come, not as a failure: "4 of 6 nodes report cluster_state:ok, waiting for ..."', () => {
    expect(clusterOkProgress(6, ['redis-cluster-0', 'redis-cluster-3'])).toBe('4 of 6 nodes report cluster_state:ok, waiting for redis-cluster-0, redis-cluster-3')
    expect(clusterOkProgress(3, ['a', 'b'])).toBe('1 of 3 nodes reports cluster_state:ok, waiting for a, b')
  })
})

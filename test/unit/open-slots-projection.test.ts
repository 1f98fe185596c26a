import {describe, expect, it} from 'vitest'

import {afterClosingOpenSlots, buildTopology} from '../../src/topology/model.js'
import {formatRanges} from '../../src/topology/slots.js'
import {formedCluster, type NodeState, observe} from '../support/observations.js'

const slotsAfterClosing = (states: NodeState[]): string[] =>
  afterClosingOpenSlots(buildTopology(states.map((s) => s.pod), observe(states))).nodes.slice(0, 3).map((n) => formatRanges(n.slots))

describe('the cluster as planned once the slots left open are closed (what dry runs plan on)', () => {
  it('gives a slot MIGRATING from its owner and IMPORTING on one node to the importing node, as finishing the move does', () => {
    const states = formedCluster()
    states[1].migrating = [{slot: 5461, to: states[0].id}]
    states[0].importing = [{slot: 5461, from: states[1].id}]
    expect(slotsAfterClosing(states)).toEqual(['0-5461', '5462-10922', '10923-16383'])
  })

  it('leaves a slot open on its owner alone (MIGRATING without an importing node closes where it is)', () => {
    const states = formedCluster()
    states[1].migrating = [{slot: 5461, to: states[0].id}]
    expect(slotsAfterClosing(states)).toEqual(['0-5460', '5461-10922', '10923-16383'])
  })

  it('leaves no slot open', () => {
    const states = formedCluster()
    states[1].migrating = [{slot: 5461, to: states[0].id}]
    states[0].importing = [{slot: 5461, from: states[1].id}]
    const closed = afterClosingOpenSlots(buildTopology(states.map((s) => s.pod), observe(states)))
    expect(closed.openSlots).toEqual([])
    expect(closed.nodes.flatMap((n) => [...n.migrating, ...n.importing])).toEqual([])
  })
})

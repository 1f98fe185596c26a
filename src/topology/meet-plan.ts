/**
 * Which nodes to introduce next while a cluster forms. Every CLUSTER MEET starts a handshake (a new connection each
 * way and a MEET, PING and PONG), and a node answers its MEETs only as fast as the handshakes already under way let
 * it: 200 nodes meeting all at once is 19,900 handshakes, which 2 cores did not get through before the nodes timed
 * them out. So at most `room` MEETs go out at a time, spread evenly over the nodes.
 */

/** A MEET to send: `from` meets `to` (indexes into the list of nodes). */
export interface MeetPair {
  from: number
  to: number
}

export const pairKey = (a: number, b: number): string => (a < b ? `${a}-${b}` : `${b}-${a}`)

/**
 * Up to `room` pairs of strangers that are not already being introduced (`inFlight`, by pairKey), taken by distance
 * around the ring of nodes: (i, i+1) for every i, then (i, i+2), and so on, so that each node sends and receives
 * about the same number of MEETs in every window, and every node is soon linked to some others, through which gossip
 * spreads the rest. With room for every pair, every pair of strangers meets at once.
 */
export function planMeets(nodes: number, strangers: (a: number, b: number) => boolean, inFlight: ReadonlySet<string>, room: number): MeetPair[] {
  const picks: MeetPair[] = []
  for (let distance = 1; distance <= Math.floor(nodes / 2); distance++) {
    for (let from = 0; from < nodes; from++) {
      if (picks.length >= room) return picks
      const to = (from + distance) % nodes
      // At half the ring, (i, i + n/2) and (i + n/2, i) are one pair.
      if (2 * distance === nodes && from >= distance) continue
      if (inFlight.has(pairKey(from, to)) || !strangers(from, to)) continue
      picks.push({from, to})
    }
  }
  return picks
}

import {describe, expect, it} from 'vitest'

import {PreconditionError} from '../../src/errors.js'
import type {PodRef} from '../../src/topology/model.js'
import {placeReplicas, placeShards, placementViolations, type Shard} from '../../src/topology/placement.js'

const pod = (ordinal: number, k8sNode?: string, zone?: string): PodRef =>
  ({pod: `redis-${ordinal}`, ordinal, ip: `10.0.0.${ordinal + 1}`, port: 6379, k8sNode, zone})

const names = (pods: readonly PodRef[]): string[] => pods.map((p) => p.pod)

/** Deterministic pseudo-random numbers (mulberry32) so that failures replay. */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function randomLayout(random: () => number, count: number, nodes: number, zones: number): PodRef[] {
  return Array.from({length: count}, (_, i) => {
    const node = Math.floor(random() * nodes)
    return pod(i, `node-${node}`, zones > 0 ? `zone-${node % zones}` : undefined)
  })
}

/** Fewest (same-node, same-zone) violations over every possible choice of masters and replicas. */
function bruteForceBest(pods: readonly PodRef[], masters: number, replicas: number): [number, number] {
  let best: [number, number] = [Infinity, Infinity]
  const consider = (shards: Shard[]): void => {
    const v = placementViolations(shards)
    const score: [number, number] = [v.filter((x) => x.kind === 'same-node').length, v.filter((x) => x.kind === 'same-zone').length]
    if (score[0] < best[0] || (score[0] === best[0] && score[1] < best[1])) best = score
  }
  const chooseMasters = (from: number, chosen: PodRef[]): void => {
    if (chosen.length === masters) {
      const rest = pods.filter((p) => !chosen.includes(p))
      const shards = chosen.map((m) => ({master: m, replicas: [] as PodRef[]}))
      const assign = (i: number, left: number): void => {
        if (left === 0) return consider(shards.map((s) => ({...s, replicas: [...s.replicas]})))
        if (i === rest.length) return
        if (rest.length - i > left) assign(i + 1, left)
        for (const s of shards) {
          if (s.replicas.length === replicas) continue
          s.replicas.push(rest[i])
          assign(i + 1, left - 1)
          s.replicas.pop()
        }
      }
      return assign(0, masters * replicas)
    }
    for (let i = from; i < pods.length; i++) chooseMasters(i + 1, [...chosen, pods[i]])
  }
  chooseMasters(0, [])
  return best
}

describe('placing masters and replicas on pods', () => {
  it('puts every replica on another Kubernetes node than its master', () => {
    const pods = [pod(0, 'a'), pod(1, 'a'), pod(2, 'b'), pod(3, 'b'), pod(4, 'c'), pod(5, 'c')]
    const placement = placeShards(pods, 3, 1)
    expect(placement.violations).toEqual([])
    for (const shard of placement.shards) expect(shard.replicas[0].k8sNode).not.toBe(shard.master.k8sNode)
  })

  it('spreads masters over the Kubernetes nodes', () => {
    const pods = [pod(0, 'a'), pod(1, 'a'), pod(2, 'b'), pod(3, 'b'), pod(4, 'c'), pod(5, 'c')]
    expect(placeShards(pods, 3, 1).shards.map((s) => s.master.k8sNode).sort()).toEqual(['a', 'b', 'c'])
  })

  it('spreads masters over zones before nodes', () => {
    const pods = [pod(0, 'a1', 'a'), pod(1, 'a2', 'a'), pod(2, 'b1', 'b'), pod(3, 'b2', 'b'), pod(4, 'a3', 'a'), pod(5, 'b3', 'b')]
    const zones = placeShards(pods, 2, 2).shards.map((s) => s.master.zone)
    expect(zones.sort()).toEqual(['a', 'b'])
  })

  it('keeps replicas out of their master\'s zone when zones allow it', () => {
    const pods = [pod(0, 'n0', 'z0'), pod(1, 'n1', 'z0'), pod(2, 'n2', 'z1'), pod(3, 'n3', 'z1'), pod(4, 'n4', 'z2'), pod(5, 'n5', 'z2')]
    expect(placeShards(pods, 3, 1).violations).toEqual([])
  })

  it('takes the lowest ordinals first when nothing else differs', () => {
    const pods = [5, 4, 3, 2, 1, 0, 6, 7].map((i) => pod(i))
    const placement = placeShards(pods, 3, 1)
    expect(names(placement.shards.map((s) => s.master))).toEqual(['redis-0', 'redis-1', 'redis-2'])
    expect(names(placement.shards.flatMap((s) => s.replicas))).toEqual(['redis-3', 'redis-4', 'redis-5'])
    expect(names(placement.spare)).toEqual(['redis-6', 'redis-7'])
  })

  it('reports each master and replica left sharing a node when the pods allow nothing better', () => {
    const pods = [pod(0, 'a'), pod(1, 'a'), pod(2, 'a'), pod(3, 'a'), pod(4, 'a'), pod(5, 'b')]
    const placement = placeShards(pods, 3, 1)
    expect(placement.violations).toHaveLength(2)
    for (const v of placement.violations) {
      expect(v).toMatchObject({kind: 'same-node', where: 'a'})
      expect(placement.shards.find((s) => s.master === v.master)?.replicas).toContain(v.replica)
    }
  })

  it('gives up spreading masters when that is what keeps replicas off their master\'s node', () => {
    // Node a holds 6 of 9 pods: with one master there, one of its two replicas must stay on a.
    const pods = [pod(0, 'a'), pod(1, 'a'), pod(2, 'a'), pod(3, 'a'), pod(4, 'a'), pod(5, 'a'), pod(6, 'b'), pod(7, 'b'), pod(8, 'c')]
    const placement = placeShards(pods, 3, 2)
    expect(placement.violations).toEqual([])
    expect(placement.shards.every((s) => s.master.k8sNode !== 'a')).toBe(true)
  })

  it('refuses when there are too few pods', () => {
    expect(() => placeShards([pod(0), pod(1)], 3, 0)).toThrow(PreconditionError)
  })

  it('places new replicas for existing masters away from the masters and their existing replicas', () => {
    const shards: Shard[] = [
      {master: pod(0, 'a'), replicas: [pod(3, 'b')]},
      {master: pod(1, 'b'), replicas: [pod(4, 'c')]},
      {master: pod(2, 'c'), replicas: [pod(5, 'a')]},
    ]
    const candidates = [pod(6, 'a'), pod(7, 'b'), pod(8, 'c'), pod(9, 'c')]
    const placement = placeReplicas(shards, candidates, 2)
    expect(placement.violations).toEqual([])
    for (const shard of placement.shards) {
      expect(shard.replicas).toHaveLength(2)
      expect(new Set(shard.replicas.map((r) => r.k8sNode)).size).toBe(2)
    }
    expect(placement.spare).toHaveLength(1)
  })

  it('keeps existing replicas where they are', () => {
    const shards: Shard[] = [{master: pod(0, 'a'), replicas: [pod(1, 'a')]}]
    const placement = placeReplicas(shards, [pod(2, 'b')], 1)
    expect(names(placement.shards[0].replicas)).toEqual(['redis-1'])
    expect(placement.violations).toHaveLength(1)
  })

  it('never leaves a violation that some other choice of masters and replicas avoids (random small layouts)', () => {
    const random = rng(7)
    for (let round = 0; round < 300; round++) {
      const masters = 2 + Math.floor(random() * 2)
      const replicas = 1 + Math.floor(random() * (masters === 2 ? 2 : 1))
      const count = masters * (1 + replicas) + Math.floor(random() * 2)
      const pods = randomLayout(random, count, 2 + Math.floor(random() * 3), Math.floor(random() * 3))
      const placement = placeShards(pods, masters, replicas)
      const got = placement.violations
      const best = bruteForceBest(pods, masters, replicas)
      expect([got.filter((v) => v.kind === 'same-node').length, got.filter((v) => v.kind === 'same-zone').length],
        JSON.stringify({masters, replicas, pods: pods.map((p) => [p.k8sNode, p.zone])})).toEqual(best)
    }
  })

  it('uses every pod at most once, fills every shard and lists exactly the sharing pairs (random larger layouts)', () => {
    const random = rng(11)
    for (let round = 0; round < 100; round++) {
      const masters = 3 + Math.floor(random() * 8)
      const replicas = Math.floor(random() * 3)
      const count = masters * (1 + replicas) + Math.floor(random() * 4)
      const pods = randomLayout(random, count, 1 + Math.floor(random() * 8), Math.floor(random() * 4))
      const placement = placeShards(pods, masters, replicas)
      const used = [...placement.shards.flatMap((s) => [s.master, ...s.replicas]), ...placement.spare]
      expect(new Set(used).size).toBe(count)
      expect(used).toHaveLength(count)
      expect(placement.shards).toHaveLength(masters)
      for (const s of placement.shards) expect(s.replicas).toHaveLength(replicas)
      expect(placement.violations).toEqual(placementViolations(placement.shards))
    }
  })

  it('gives the same placement whatever order the pods come in', () => {
    const random = rng(3)
    for (let round = 0; round < 50; round++) {
      const pods = randomLayout(random, 12, 4, 2)
      const shuffled = [...pods].sort(() => random() - 0.5)
      expect(placeShards(shuffled, 4, 2)).toEqual(placeShards(pods, 4, 2))
    }
  })

  it('has no violations when pods are spread evenly over at least 1+R nodes (random layouts)', () => {
    const random = rng(5)
    for (let round = 0; round < 100; round++) {
      const masters = 3 + Math.floor(random() * 10)
      const replicas = 1 + Math.floor(random() * 2)
      const nodes = 1 + replicas + Math.floor(random() * 4)
      const pods = Array.from({length: masters * (1 + replicas)}, (_, i) => pod(i, `node-${i % nodes}`, `zone-${i % nodes}`))
      expect(placeShards(pods, masters, replicas).violations).toEqual([])
    }
  })

  it('places 30 masters with 2 replicas over 90 pods on 6 nodes, no replica beside its master (a search that blew up would time the test out)', () => {
    const random = rng(9)
    const pods = randomLayout(random, 90, 6, 3)
    const placed = placeShards(pods, 30, 2)
    expect(placed.shards.map((s) => s.replicas.length)).toEqual(Array(30).fill(2))
    expect(placed.violations.filter((v) => v.kind === 'same-node')).toEqual([])
  })
})

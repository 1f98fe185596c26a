/**
 * The pure planners (src/topology/) at growing cluster sizes, up to 500 masters with 1 replica each, to see what
 * grows worse than linearly in the number of nodes. No Redis, no Kubernetes: observations are rendered as CLUSTER
 * NODES / CLUSTER INFO text and parsed by the same parsers real replies go through (test/support/observations.ts).
 *
 *   node --import tsx bench/planners.ts [--masters 50,100,200,500] [--k8s-nodes 10] [--zones 3]
 *
 * Pods are spread over --k8s-nodes Kubernetes nodes in --zones zones by ordinal. Each planner runs until 0.3 s
 * have passed (at least once), the median of those runs is printed, and the last column is the growth exponent
 * between the two largest sizes (time ~ n^k: 1 is linear, 2 quadratic).
 */
import {loadavg} from 'node:os'
import {parseArgs} from 'node:util'

import {checkTopology} from '../src/topology/check.js'
import {planCreate} from '../src/topology/create-plan.js'
import {buildTopology, type PodRef} from '../src/topology/model.js'
import {placeShards} from '../src/topology/placement.js'
import {planRebalance} from '../src/topology/rebalance.js'
import {planScaleIn} from '../src/topology/scale-in-plan.js'
import {planScaleOut} from '../src/topology/scale-out-plan.js'
import {formatRanges, splitEvenly} from '../src/topology/slots.js'
import {nodeStatuses, summarize} from '../src/topology/status.js'
import {type NodeState, nodeId, observe} from '../test/support/observations.js'

const {values} = parseArgs({options: {masters: {type: 'string', default: '50,100,200,500'}, 'k8s-nodes': {type: 'string', default: '10'}, zones: {type: 'string', default: '3'}}})
const SIZES = values.masters!.split(',').map(Number)
const K8S_NODES = Number(values['k8s-nodes'])
const ZONES = Number(values.zones)

const podAt = (i: number): PodRef => {
  const node = i % K8S_NODES
  return {pod: `redis-${i}`, ordinal: i, ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 6379, k8sNode: `node-${node}`, zone: `zone-${node % ZONES}`}
}

/** A formed cluster of `masters` x 1 as placeShards would lay it out, plus `extra` pods outside it. */
function formed(masters: number, extra = 0): {pods: PodRef[]; states: NodeState[]} {
  const pods = Array.from({length: masters * 2 + extra}, (_, i) => podAt(i))
  const placement = placeShards(pods.slice(0, masters * 2), masters, 1)
  const ranges = splitEvenly(masters)
  const members = placement.shards.flatMap((s, i) => [
    {pod: s.master, id: nodeId(`m${i}`), slots: formatRanges([ranges[i]]), epoch: i + 1},
    ...s.replicas.map((r) => ({pod: r, id: nodeId(`r${i}`), replicaOf: nodeId(`m${i}`), epoch: i + 1})),
  ])
  const ids = members.map((m) => m.id)
  const states: NodeState[] = [
    ...members.map((m) => ({...m, knows: ids.filter((id) => id !== m.id)})),
    ...pods.slice(masters * 2).map((p) => ({pod: p, id: nodeId(`x${p.ordinal}`)})),
  ]
  return {pods, states}
}

function time(run: () => unknown): number {
  const times: number[] = []
  const until = performance.now() + 300
  do {
    const started = performance.now()
    run()
    times.push(performance.now() - started)
  } while (performance.now() < until && times.length < 50)
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]
}

const rows = new Map<string, number[]>()
const record = (name: string, ms: number): void => {
  rows.set(name, [...(rows.get(name) ?? []), ms])
}

const load = loadavg()[0]
for (const masters of SIZES) {
  const fresh = Array.from({length: masters * 2}, (_, i) => podAt(i))
  record('placeShards (create placement, min-cost flow)', time(() => placeShards(fresh, masters, 1)))
  const freshObservation = observe(fresh.map((p) => ({pod: p, id: nodeId(`f${p.ordinal}`)})))
  record('planCreate on fresh nodes', time(() => planCreate(fresh, freshObservation, {masters, replicasPerMaster: 1})))

  const {pods, states} = formed(masters, 2)
  const observation = observe(states)
  record('buildTopology (every node\'s view joined)', time(() => buildTopology(pods, observation)))
  const topology = buildTopology(pods, observation)
  record('checkTopology', time(() => checkTopology(topology)))
  record('status rows and summary', time(() => [nodeStatuses(topology), summarize(topology)]))
  record('planScaleOut to one more master', time(() => planScaleOut(topology, masters + 1, 1)))
  const formedOnly = buildTopology(pods.slice(0, masters * 2), observe(states.slice(0, masters * 2)))
  record('planScaleIn to one master fewer', time(() => planScaleIn(formedOnly, {masters: masters - 1, replicasPerMaster: 1})))
  const withEmpty = [...topology.nodes.filter((n) => n.role === 'master' && n.id).map((n) => ({id: n.id!, slots: n.slots})), {id: nodeId('empty'), slots: []}]
  record('planRebalance onto 1 empty master', time(() => planRebalance(withEmpty, {useEmptyMasters: true})))
  console.error(`${masters} masters done`)
}

console.log(`\nPure planners, masters x 1 replica on ${K8S_NODES} Kubernetes nodes in ${ZONES} zones; median ms; load average ${load.toFixed(1)} -> ${loadavg()[0].toFixed(1)}\n`)
console.log(`| planner | ${SIZES.map((s) => `${s} masters`).join(' | ')} | growth exponent |`)
console.log(`|---|${SIZES.map(() => '---:').join('|')}|---:|`)
for (const [name, ms] of rows) {
  const n = SIZES.length
  const k = n >= 2 ? Math.log(ms[n - 1] / ms[n - 2]) / Math.log(SIZES[n - 1] / SIZES[n - 2]) : NaN
  console.log(`| ${name} | ${ms.map((m) => m.toFixed(m < 10 ? 2 : 0)).join(' | ')} | ${k.toFixed(1)} |`)
}

import type {V1StatefulSet} from '@kubernetes/client-node'

import {PreconditionError, UsageError} from '../errors.js'
import type {RedisPod} from './pods.js'

/** Annotation and label prefixes that Redis operators put on what they manage. */
const OPERATOR_MARKS = [
  'redis.opstreelabs.in', 'redis.redis.opstreelabs.in', 'databases.spotahome.com', 'app.redislabs.com',
  'kubedb.com', 'redis.kun', 'ucloud.cn',
]

/** "redis-0 (ReplicaSet redis-abc)": a pod and what owns it, for refusals. */
export const podAndOwner = (p: RedisPod): string => `${p.name} (${p.owner ? `${p.owner.kind} ${p.owner.name}` : 'no owner'})`

/**
 * Scaling changes which pods exist; if an operator owns the StatefulSet or the pods, it would undo the change or
 * fight over the cluster. Refuses unless the pods belong to the StatefulSet and nothing else owns either.
 */
export function requireSelfManaged(sts: V1StatefulSet, pods: readonly RedisPod[], change: 'scale' | 'roll' = 'scale'): void {
  const Change = change === 'scale' ? 'Scale' : 'Roll'
  const name = sts.metadata?.name ?? ''
  const stsOwner = sts.metadata?.ownerReferences?.find((o) => o.controller) ?? sts.metadata?.ownerReferences?.[0]
  if (stsOwner) {
    throw new PreconditionError(`StatefulSet ${name} is owned by ${stsOwner.kind} ${stsOwner.name}, which would undo or fight a ${change} made here; nothing was changed.`, [
      `${Change} the cluster through ${stsOwner.kind} ${stsOwner.name} instead.`,
    ])
  }
  const marked = [{what: `StatefulSet ${name}`, marks: {...sts.metadata?.annotations, ...sts.metadata?.labels}},
    ...pods.map((p) => ({what: `pod ${p.name}`, marks: p.annotations}))]
    .flatMap(({what, marks}) => Object.keys(marks).filter((k) => OPERATOR_MARKS.some((m) => k.startsWith(m) || k.includes(`.${m}/`))).map((k) => `${what} (${k})`))
  if (marked.length > 0) {
    throw new PreconditionError(`A Redis operator manages this cluster: ${marked.slice(0, 3).join(', ')}; nothing was changed.`, [
      `${Change} the cluster through its operator instead.`,
    ])
  }
  const foreign = pods.filter((p) => p.owner?.kind !== 'StatefulSet' || p.owner.name !== name)
  if (foreign.length > 0) {
    throw new PreconditionError(`Pods ${foreign.map(podAndOwner).join(', ')} do not belong to StatefulSet ${name}; nothing was changed.`, [
      `${Change} only pods of the StatefulSet named by --name, selected by -l/--selector.`,
    ])
  }
}

/** The cluster's name when neither --name nor -l/--selector says otherwise. */
export const DEFAULT_CLUSTER_NAME = 'redis-cluster'

/**
 * The one way a command that selects pods with -l/--selector names its cluster, which is its StatefulSet's name:
 * --name when given, else the StatefulSet that owns the selected pods (adopted pods carry no label of redisctl's).
 * Undefined when the pods belong to no StatefulSet (or none match): only commands that need no StatefulSet go on.
 * Pods of two StatefulSets, or of another one than --name, are refused: acting on them would act on the wrong set.
 */
export function clusterNameOf(name: string | undefined, selector: string, pods: readonly RedisPod[]): string | undefined {
  const owners = new Map<string, string[]>()
  for (const p of pods) if (p.owner?.kind === 'StatefulSet') owners.set(p.owner.name, [...owners.get(p.owner.name) ?? [], p.name])
  const few = (pods: string[]) => (pods.length > 3 ? `${pods.slice(0, 2).join(', ')} and ${pods.length - 2} more` : pods.join(', '))
  const described = (names: string[]) => names.map((n) => `${n} (${few(owners.get(n)!)})`).join(' and ')
  if (name !== undefined) {
    const others = [...owners.keys()].filter((n) => n !== name).sort()
    if (others.length > 0) {
      throw new UsageError(`--name ${name} and -l ${selector} disagree: the selected pods of StatefulSet ${described(others)} are not ${name}'s; nothing was changed.`, [
        `Leave --name out (the cluster is then the StatefulSet that owns the selected pods), or select only ${name}'s pods with -l/--selector.`,
      ])
    }
    return name
  }
  const names = [...owners.keys()].sort()
  if (names.length > 1) {
    throw new UsageError(`The pods selected by -l ${selector} belong to ${names.length} StatefulSets, ${described(names)}: which cluster is meant is not clear; nothing was changed.`, [
      `Say which with --name (${names.join(' or ')}), or narrow -l/--selector to one StatefulSet's pods.`,
    ])
  }
  return names[0]
}

import type {V1StatefulSet} from '@kubernetes/client-node'

import {PreconditionError} from '../errors.js'
import type {RedisPod} from './pods.js'

/** Annotation and label prefixes that Redis operators put on what they manage. */
const OPERATOR_MARKS = [
  'redis.opstreelabs.in', 'redis.redis.opstreelabs.in', 'databases.spotahome.com', 'app.redislabs.com',
  'kubedb.com', 'redis.kun', 'ucloud.cn',
]

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
    throw new PreconditionError(`Pods ${foreign.map((p) => `${p.name} (${p.owner ? `${p.owner.kind} ${p.owner.name}` : 'no owner'})`).join(', ')} do not belong to StatefulSet ${name}; nothing was changed.`, [
      `${Change} only pods of the StatefulSet named by --name, selected by -l/--selector.`,
    ])
  }
}

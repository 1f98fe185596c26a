import type {V1ControllerRevision, V1Pod, V1PodTemplateSpec, V1StatefulSet} from '@kubernetes/client-node'

import {controllerRevisionName, equalRevision, HASH_LABEL, hashRevision, nextRevision} from './controller-history.js'
import {goJson} from './go-json.js'
import {type Revision, revisionOf, setOwnerReference} from './statefulset-identity.js'

/**
 * A StatefulSet's revisions, after getStatefulSetRevisions and truncateHistory in kubernetes
 * pkg/controller/statefulset/stateful_set_control.go and newRevision/getPatch in stateful_set_utils.go: each
 * revision stores a strategic merge patch that puts its pod template back, and is named after the hash of that patch.
 */

/** getPatch: `{"spec":{"template":{...,"$patch":"replace"}}}`, the template as the API server stores it. */
export function revisionPatch(set: V1StatefulSet): string {
  const template = set.spec?.template ?? {}
  return goJson({spec: {template: {...template, metadata: {...template.metadata, creationTimestamp: null}, $patch: 'replace'}}})
}

/**
 * newRevision: labelled with the template's labels and the hash, annotated as the set is, controlled by the set.
 * Named after the hash of the patch and the collision count.
 */
export function newRevision(set: V1StatefulSet, revision: number, collisionCount: number): V1ControllerRevision {
  const patch = revisionPatch(set)
  const hash = hashRevision(patch, collisionCount)
  const annotations = set.metadata?.annotations
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(set.metadata?.name ?? '', hash),
      namespace: set.metadata?.namespace,
      labels: {...set.spec?.template?.metadata?.labels, [HASH_LABEL]: hash},
      ...(annotations && Object.keys(annotations).length > 0 ? {annotations: {...annotations}} : {}),
      ownerReferences: [setOwnerReference(set, true)],
    },
    data: JSON.parse(patch),
    revision,
  }
}

/** The same revision under the next name CreateControllerRevision tries after a name collision (the label keeps its hash). */
export function renamedForCollision(set: V1StatefulSet, revision: V1ControllerRevision, collisionCount: number): V1ControllerRevision {
  const name = controllerRevisionName(set.metadata?.name ?? '', hashRevision(revisionPatch(set), collisionCount))
  return {...revision, metadata: {...revision.metadata, name}}
}

/** ApplyRevision, for the only field a revision holds: its pod template. */
export function revisionTemplate(revision: V1ControllerRevision): V1PodTemplateSpec {
  const {$patch: _directive, ...template} = (revision.data as {spec?: {template?: Record<string, unknown>}})?.spec?.template ?? {}
  return template as V1PodTemplateSpec
}

export const asRevision = (revision: V1ControllerRevision): Revision => ({name: revision.metadata?.name ?? '', template: revisionTemplate(revision)})

/** What the sync must do so that the set's template has a revision that is also the latest one. */
export type UpdateRevisionStep =
  | {kind: 'keep'; revision: V1ControllerRevision}
  /** The template went back to an older revision (a rollback): that revision becomes the latest by its number. */
  | {kind: 'renumber'; revision: V1ControllerRevision; to: number}
  | {kind: 'create'; revision: V1ControllerRevision}

/** getStatefulSetRevisions' choice of the update revision; `sorted` must be in sortRevisions order. */
export function chooseUpdateRevision(set: V1StatefulSet, sorted: readonly V1ControllerRevision[]): UpdateRevisionStep {
  const candidate = newRevision(set, nextRevision(sorted), set.status?.collisionCount ?? 0)
  const equal = sorted.filter((revision) => equalRevision(revision, candidate))
  const latest = sorted.at(-1)
  if (equal.length > 0 && latest && equalRevision(latest, equal.at(-1)!)) return {kind: 'keep', revision: latest}
  if (equal.length > 0) return {kind: 'renumber', revision: equal.at(-1)!, to: candidate.revision}
  return {kind: 'create', revision: candidate}
}

/** The revision status.currentRevision names, when it still exists; the update revision stands in otherwise. */
export function currentRevisionOf(set: V1StatefulSet, revisions: readonly V1ControllerRevision[]): V1ControllerRevision | undefined {
  const name = set.status?.currentRevision
  return name ? revisions.find((revision) => revision.metadata?.name === name) : undefined
}

/**
 * truncateHistory: the revisions to delete so that at most revisionHistoryLimit remain besides the live ones (current,
 * update, and any a pod still runs), oldest first. `sorted` must be in sortRevisions order.
 */
export function revisionsToPrune(set: V1StatefulSet, sorted: readonly V1ControllerRevision[], live: {current: string; update: string; pods: readonly V1Pod[]}): V1ControllerRevision[] {
  const names = new Set([live.current, live.update, ...live.pods.map((pod) => revisionOf(pod) ?? '')])
  const history = sorted.filter((revision) => !names.has(revision.metadata?.name ?? ''))
  const limit = set.spec?.revisionHistoryLimit ?? 10
  return limit < 0 || history.length <= limit ? [] : history.slice(0, history.length - limit)
}

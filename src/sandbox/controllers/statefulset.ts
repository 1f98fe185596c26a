import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1ControllerRevision,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node'

import {apiCode, EventRecorder, mergePatch, objectKey, splitKey, strategicMergePatch, tolerate} from './api.js'
import {equalRevision, sortRevisions} from './controller-history.js'
import type {Informers} from './informers.js'
import {labelSelectorMatches} from './selectors.js'
import {ordinalOf, setOwnerReference} from './statefulset-identity.js'
import {planStatefulSet, type StatefulSetAction, statusMatches} from './statefulset-plan.js'
import {asRevision, chooseUpdateRevision, currentRevisionOf, renamedForCollision, revisionsToPrune, type UpdateRevisionStep} from './statefulset-revisions.js'
import {WorkQueue} from './workqueue.js'

/**
 * The StatefulSet controller: watches StatefulSets, their pods, claims and ControllerRevisions, keeps a revision per
 * template (named and hashed as kube-controller-manager names them), brings each set one sync closer to its spec
 * (planStatefulSet), records the status through the /status subresource and prunes old revisions.
 */
export class StatefulSetController {
  private readonly core: CoreV1Api
  private readonly apps: AppsV1Api
  private readonly events: EventRecorder
  private readonly queue: WorkQueue

  constructor(
    kc: KubeConfig,
    private readonly informers: Informers,
    private readonly log: (line: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api)
    this.apps = kc.makeApiClient(AppsV1Api)
    this.events = new EventRecorder(this.core, 'statefulset-controller', log)
    this.queue = new WorkQueue((key) => this.sync(key), {
      concurrency: 4,
      onError: (key, error) => log(`statefulset ${key}: ${error instanceof Error ? error.message : String(error)}`),
    })
    informers.statefulSets.on('change', (set) => this.queue.add(objectKey(set.metadata)))
    informers.pods.on('change', (pod) => this.enqueueOwner(pod))
    informers.claims.on('change', (claim) => this.enqueueClaimUsers(claim))
  }

  async stop(): Promise<void> {
    await this.queue.stop()
    await this.events.flush()
  }

  private enqueueOwner(pod: V1Pod): void {
    const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'StatefulSet')
    if (owner) this.queue.add(`${pod.metadata?.namespace}/${owner.name}`)
  }

  /** A claim named `<template>-<set>-<ordinal>` matters to that set (missing, stale or mis-owned claims). */
  private enqueueClaimUsers(claim: V1PersistentVolumeClaim): void {
    const namespace = claim.metadata?.namespace
    for (const set of this.informers.statefulSets.list(namespace)) {
      const used = (set.spec?.volumeClaimTemplates ?? []).some((template) => {
        const prefix = `${template.metadata?.name}-`
        const name = claim.metadata?.name ?? ''
        return name.startsWith(prefix) && ordinalOf(name.slice(prefix.length), set.metadata?.name) >= 0
      })
      if (used) this.queue.add(objectKey(set.metadata))
    }
  }

  private async sync(key: string): Promise<number | void> {
    const {namespace, name} = splitKey(key)
    const set = this.informers.statefulSets.get(name, namespace)
    if (!set) return
    const uid = set.metadata?.uid
    const pods = this.informers.pods
      .list(namespace)
      .filter((pod) => pod.metadata?.ownerReferences?.some((ref) => ref.controller && ref.uid === uid))
    const claims = new Map(this.informers.claims.list(namespace).map((claim) => [claim.metadata?.name ?? '', claim]))
    const deleting = Boolean(set.metadata?.deletionTimestamp)
    const revisions = sortRevisions(this.revisionsOf(set))
    if (!deleting) await this.adoptOrphans(set, revisions)
    const step = chooseUpdateRevision(set, revisions)
    const {update, collisionCount} = deleting ? {update: step.revision, collisionCount: set.status?.collisionCount ?? 0} : await this.realise(set, step)
    const current = currentRevisionOf(set, revisions) ?? update
    const plan = planStatefulSet({set, pods, claims, current: asRevision(current), update: asRevision(update), collisionCount, now: Date.now()})
    // Claims must carry their new owners before a condemned pod goes, or the garbage collector misses them
    // (fixPodClaim runs before processCondemned in the real controller).
    const owners = plan.actions.filter((action) => action.kind === 'setClaimOwners')
    const others = plan.actions.filter((action) => action.kind !== 'setClaimOwners')
    const ownerResults = await Promise.allSettled(owners.map((action) => this.act(set, action)))
    const ownersFailed = ownerResults.some((result) => result.status === 'rejected')
    const results = [...ownerResults, ...(ownersFailed ? [] : await Promise.allSettled(others.map((action) => this.act(set, action))))]
    if (!statusMatches(set.status, plan.status)) {
      await tolerate([404], () =>
        this.apps.patchNamespacedStatefulSetStatus({namespace, name, body: {status: plan.status}}, mergePatch),
      )
    }
    const failed = results.find((result) => result.status === 'rejected')
    if (failed) throw failed.reason
    if (!deleting) await this.truncateHistory(set, revisions, {current: current.metadata?.name ?? '', update: update.metadata?.name ?? '', pods})
    return plan.requeueAfterMs
  }

  /** ListControllerRevisions: revisions the selector matches that the set controls, or that nothing controls yet. */
  private revisionsOf(set: V1StatefulSet): V1ControllerRevision[] {
    return this.informers.revisions.list(set.metadata?.namespace).filter((revision) => {
      const controller = revision.metadata?.ownerReferences?.find((ref) => ref.controller)
      return labelSelectorMatches(set.spec?.selector, revision.metadata?.labels) && (!controller || controller.uid === set.metadata?.uid)
    })
  }

  /** AdoptOrphanRevisions: a revision left by a deleted set of the same selector becomes this set's (uid precondition). */
  private async adoptOrphans(set: V1StatefulSet, revisions: V1ControllerRevision[]): Promise<void> {
    for (const [index, revision] of revisions.entries()) {
      if (revision.metadata?.ownerReferences?.some((ref) => ref.controller)) continue
      const adopted = await tolerate([404, 409], () =>
        this.apps.patchNamespacedControllerRevision(
          {
            namespace: revision.metadata?.namespace ?? '',
            name: revision.metadata?.name ?? '',
            body: {metadata: {ownerReferences: [setOwnerReference(set, true)], uid: revision.metadata?.uid}},
          },
          strategicMergePatch,
        ),
      )
      if (adopted) revisions[index] = adopted
    }
  }

  /**
   * Makes the update revision exist: as it is, renumbered as the latest (a rollback to an earlier template), or
   * created. A name taken by a revision with other data is a hash collision: the collision count goes up and the
   * name changes (CreateControllerRevision).
   */
  private async realise(set: V1StatefulSet, step: UpdateRevisionStep): Promise<{update: V1ControllerRevision; collisionCount: number}> {
    let collisionCount = set.status?.collisionCount ?? 0
    const namespace = set.metadata?.namespace ?? ''
    switch (step.kind) {
      case 'keep':
        return {update: step.revision, collisionCount}
      case 'renumber': {
        const name = step.revision.metadata?.name ?? ''
        const update = await this.apps.patchNamespacedControllerRevision({namespace, name, body: {revision: step.to}}, mergePatch)
        return {update, collisionCount}
      }
      case 'create': {
        let candidate = step.revision
        for (;;) {
          try {
            return {update: await this.apps.createNamespacedControllerRevision({namespace, body: candidate}), collisionCount}
          } catch (error) {
            if (apiCode(error) !== 409) throw error
          }
          const existing = await this.apps.readNamespacedControllerRevision({namespace, name: candidate.metadata?.name ?? ''})
          if (equalRevision(existing, candidate)) return {update: existing, collisionCount}
          collisionCount += 1
          candidate = renamedForCollision(set, candidate, collisionCount)
        }
      }
    }
  }

  private async truncateHistory(set: V1StatefulSet, revisions: V1ControllerRevision[], live: Parameters<typeof revisionsToPrune>[2]): Promise<void> {
    await Promise.all(
      revisionsToPrune(set, revisions, live).map((revision) =>
        tolerate([404], () => this.apps.deleteNamespacedControllerRevision({namespace: revision.metadata?.namespace ?? '', name: revision.metadata?.name ?? ''})),
      ),
    )
  }

  private async act(set: V1StatefulSet, action: StatefulSetAction): Promise<void> {
    switch (action.kind) {
      case 'createPod':
        await this.createClaims(set, action.pod, action.claims)
        await this.createPod(set, action.pod)
        return
      case 'createClaims':
        await this.createClaims(set, action.pod, action.claims)
        return
      case 'deletePod':
        await this.deletePod(set, action.pod)
        return
      case 'setClaimOwners':
        await tolerate([404], () =>
          this.core.patchNamespacedPersistentVolumeClaim(
            {
              namespace: action.claim.metadata?.namespace ?? '',
              name: action.claim.metadata?.name ?? '',
              body: {metadata: {ownerReferences: action.ownerReferences, resourceVersion: action.claim.metadata?.resourceVersion}},
            },
            mergePatch,
          ),
        )
        return
    }
  }

  /** The messages are those of stateful_pod_control.go's recordPodEvent / recordClaimEvent. */
  private async createClaims(set: V1StatefulSet, pod: V1Pod, claims: V1PersistentVolumeClaim[]): Promise<void> {
    const namespace = set.metadata?.namespace ?? ''
    await Promise.all(
      claims.map(async (claim) => {
        try {
          const created = await tolerate([409], () => this.core.createNamespacedPersistentVolumeClaim({namespace, body: claim}))
          if (created) this.record(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata?.name} Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} success`)
        } catch (error) {
          this.record(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata?.name} for Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} failed error: ${describe(error)}`)
          throw error
        }
      }),
    )
  }

  private async createPod(set: V1StatefulSet, pod: V1Pod): Promise<void> {
    try {
      const created = await tolerate([409], () => this.core.createNamespacedPod({namespace: set.metadata?.namespace ?? '', body: pod}))
      if (created) this.record(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} successful`)
    } catch (error) {
      this.record(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} failed error: ${describe(error)}`)
      throw error
    }
  }

  private async deletePod(set: V1StatefulSet, pod: V1Pod): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? ''})
      this.record(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} successful`)
    } catch (error) {
      if (apiCode(error) === 404) return
      this.record(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} failed error: ${describe(error)}`)
      throw error
    }
  }

  private record(set: V1StatefulSet, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.record({apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: set.metadata}, type, reason, message)
    this.log(message)
  }
}

function describe(error: unknown): string {
  const body = (error as {body?: unknown}).body
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as {message?: string}).message ?? body
    } catch {
      return body
    }
  }
  return error instanceof Error ? error.message : String(error)
}

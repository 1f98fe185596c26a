import type {V1ControllerRevision, V1Pod, V1StatefulSet} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {applyDefaults} from '../../src/sandbox/apiserver/defaults.js'
import type {KObject} from '../../src/sandbox/apiserver/object.js'
import {STATEFULSETS} from '../../src/sandbox/apiserver/resources.js'
import {sortRevisions} from '../../src/sandbox/controllers/controller-history.js'
import {goJson} from '../../src/sandbox/controllers/go-json.js'
import {
  chooseUpdateRevision,
  newRevision,
  renamedForCollision,
  revisionPatch,
  revisionsToPrune,
  revisionTemplate,
} from '../../src/sandbox/controllers/statefulset-revisions.js'

/** A StatefulSet as the sandbox's API server stores it: sent by a client, then defaulted. */
function stored(template: NonNullable<V1StatefulSet['spec']>['template'], extra: Partial<NonNullable<V1StatefulSet['spec']>> = {}): V1StatefulSet {
  const set = {
    metadata: {name: 'test', namespace: 'default', uid: 'set-uid'},
    spec: {selector: {matchLabels: {app: 'foo'}}, serviceName: 'test', template, ...extra},
  }
  applyDefaults(STATEFULSETS, set as unknown as KObject)
  return set as V1StatefulSet
}

const template = (image: string) => ({metadata: {labels: {app: 'foo'}, annotations: {test: 'value'}}, spec: {containers: [{name: 'test', image}]}})

function revisionAt(set: V1StatefulSet, number: number, name?: string): V1ControllerRevision {
  const revision = newRevision(set, number, 0)
  if (name) revision.metadata!.name = name
  return revision
}

describe('StatefulSet revisions', () => {
  it('names and hashes a revision as Kubernetes does: test-c77f6d978 for the template of its 1.33 compatibility test', () => {
    const set = stored(template('test'))
    const revision = newRevision(set, 1, 0)
    expect(revisionPatch(set)).toBe(
      '{"spec":{"template":{"$patch":"replace","metadata":{"annotations":{"test":"value"},"creationTimestamp":null,"labels":{"app":"foo"}},' +
        '"spec":{"containers":[{"image":"test","imagePullPolicy":"Always","name":"test","resources":{},"terminationMessagePath":"/dev/termination-log",' +
        '"terminationMessagePolicy":"File"}],"dnsPolicy":"ClusterFirst","restartPolicy":"Always","schedulerName":"default-scheduler",' +
        '"securityContext":{},"terminationGracePeriodSeconds":30}}}}',
    )
    expect(revision.metadata?.name).toBe('test-c77f6d978')
    expect(revision.metadata?.labels).toEqual({app: 'foo', 'controller.kubernetes.io/hash': 'c77f6d978'})
    expect(revision.metadata?.ownerReferences).toEqual([{apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'test', uid: 'set-uid', controller: true, blockOwnerDeletion: true}])
    expect(revision.revision).toBe(1)
  })

  it('gives a new revision for a new template, and the same one whatever the replicas or the order of the fields', () => {
    const base = newRevision(stored(template('redis:7.0')), 1, 0).metadata?.name
    expect(newRevision(stored(template('redis:7.2')), 1, 0).metadata?.name).not.toBe(base)
    expect(newRevision(stored(template('redis:7.0'), {replicas: 9}), 1, 0).metadata?.name).toBe(base)
    const reordered = {spec: {containers: [{image: 'redis:7.0', name: 'test'}]}, metadata: {annotations: {test: 'value'}, labels: {app: 'foo'}}}
    expect(newRevision(stored(reordered), 1, 0).metadata?.name).toBe(base)
  })

  it('writes JSON as Go does: sorted keys, <>& escaped, empty strings, lists and maps left out, empty structs kept', () => {
    expect(goJson({b: 1, a: 'x && <y>', c: '', d: [], labels: {}, resources: {}, args: ['--save', '']})).toBe(
      '{"a":"x \\u0026\\u0026 \\u003cy\\u003e","args":["--save",""],"b":1,"resources":{}}',
    )
  })

  it('copies the StatefulSet annotations onto the revision, so that kubectl rollout history shows the change cause', () => {
    const set = stored(template('redis:7.0'))
    set.metadata!.annotations = {'kubernetes.io/change-cause': 'kubectl set image'}
    expect(newRevision(set, 2, 0).metadata?.annotations).toEqual({'kubernetes.io/change-cause': 'kubectl set image'})
  })

  it('gives back the pod template a revision stores', () => {
    const set = stored(template('redis:7.0'))
    const restored = revisionTemplate(newRevision(set, 1, 0))
    expect(restored.spec?.containers[0].image).toBe('redis:7.0')
    expect(restored).not.toHaveProperty('$patch')
  })

  it('keeps the latest revision while the template is unchanged', () => {
    const set = stored(template('redis:7.0'))
    const latest = revisionAt(set, 1)
    expect(chooseUpdateRevision(set, [latest])).toEqual({kind: 'keep', revision: latest})
  })

  it('creates revision n+1 for a template never seen before', () => {
    const old = revisionAt(stored(template('redis:7.0')), 1)
    const step = chooseUpdateRevision(stored(template('redis:7.2')), [old])
    expect(step.kind).toBe('create')
    expect(step.revision.revision).toBe(2)
  })

  it('renumbers an earlier revision as the latest when the template goes back to it (rollout undo)', () => {
    const first = revisionAt(stored(template('redis:7.0')), 1)
    const second = revisionAt(stored(template('redis:7.2')), 2)
    expect(chooseUpdateRevision(stored(template('redis:7.0')), [first, second])).toEqual({kind: 'renumber', revision: first, to: 3})
  })

  it('names a revision anew after a hash collision, keeping its hash label', () => {
    const set = stored(template('redis:7.0'))
    const revision = newRevision(set, 1, 0)
    const renamed = renamedForCollision(set, revision, 1)
    expect(renamed.metadata?.name).not.toBe(revision.metadata?.name)
    expect(renamed.metadata?.name).toBe(newRevision(set, 1, 1).metadata?.name)
    expect(renamed.metadata?.labels).toEqual(revision.metadata?.labels)
  })

  it('sorts revisions by number, then age, then name', () => {
    const set = stored(template('redis:7.0'))
    const sorted = sortRevisions([revisionAt(set, 3, 'c'), revisionAt(set, 1, 'b'), revisionAt(set, 1, 'a')])
    expect(sorted.map((r) => `${r.revision}${r.metadata?.name}`)).toEqual(['1a', '1b', '3c'])
  })

  it('prunes the oldest revisions beyond revisionHistoryLimit, never the current, the update or one a pod runs', () => {
    const set = stored(template('redis:7.0'), {revisionHistoryLimit: 1})
    const revisions = [1, 2, 3, 4, 5, 6].map((n) => revisionAt(set, n, `r${n}`))
    const pods = [{metadata: {labels: {'controller-revision-hash': 'r1'}}} as V1Pod]
    const pruned = revisionsToPrune(set, revisions, {current: 'r5', update: 'r6', pods})
    expect(pruned.map((r) => r.metadata?.name)).toEqual(['r2', 'r3'])
  })
})

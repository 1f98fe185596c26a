import type {V1Binding, V1Namespace, V1Pod, V1Secret, V1StatefulSet} from '@kubernetes/client-node'
import {parse as parseYaml} from 'yaml'

import {applyDefaults, initialStatus} from './defaults.js'
import {selectableFields} from './fields.js'
import {generateName, newUid} from './names.js'
import {clone, deepEqual, isPlainObject, timestamp, type KObject} from './object.js'
import {jsonPatch, mergePatch, strategicMerge, type PatchType} from './patch.js'
import {newestDefaultClass} from '../storage-class.js'
import {apiVersionOf, NAMESPACES, PODS, type ResourceType, STATEFULSETS, STORAGECLASSES} from './resources.js'
import {type FieldSelector, type LabelSelector} from './selectors.js'
import {alreadyExists, ApiError, badRequest, conflict, forbidden, invalid, namespaceTerminating, notFound} from './status.js'
import type {Store} from './store.js'
import {validateCreate, validateUpdate} from './validation.js'

export type Subresource = 'main' | 'status'
export type Propagation = 'Orphan' | 'Background' | 'Foreground'

export interface WriteOptions {
  dryRun?: boolean
  fieldManager?: string
}

export interface DeleteOptions {
  gracePeriodSeconds?: number
  propagationPolicy?: Propagation
  preconditions?: {uid?: string; resourceVersion?: string}
  dryRun?: boolean
}

export interface DeleteResult {
  object: KObject
  /** False when the object only got a deletionTimestamp (finalizers, or a bound pod's grace period). */
  removed: boolean
}

const ORPHAN = 'orphan'
const FOREGROUND = 'foregroundDeletion'
const hasStatusSubresource = (r: ResourceType): boolean => r.subresources.includes('status')

/**
 * The API's write semantics over the Store: defaulting, validation, optimistic concurrency, status separation,
 * generation, graceful deletion, finalizers, namespace termination and owner-reference garbage collection.
 */
export class Registry {
  constructor(readonly store: Store) {}

  get(r: ResourceType, namespace: string | undefined, name: string): KObject {
    const o = this.store.get(r, namespace, name)
    if (!o) throw notFound(r, name)
    return withType(r, o)
  }

  list(r: ResourceType, namespace: string | undefined, labels: LabelSelector, fields: FieldSelector): {items: KObject[]; resourceVersion: string} {
    const items = this.store.list(r, namespace).filter((o) => labels.matches(o.metadata.labels) && fields.matches(selectableFields(r, o)))
    return {items, resourceVersion: String(this.store.resourceVersion)}
  }

  create(r: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions = {}): KObject {
    const o = checkBody(r, body)
    const meta = o.metadata
    if (r.namespaced) {
      if (meta.namespace && meta.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
      meta.namespace = namespace
    } else {
      delete meta.namespace
    }
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName)
    const causes = validateCreate(r, o)
    if (causes.length > 0) throw invalid(r, meta.name ?? '', causes)
    if (r.namespaced) this.requireActiveNamespace(r, namespace!, meta.name!)
    if (this.store.get(r, meta.namespace, meta.name!)) throw alreadyExists(r, meta.name!)
    meta.uid = newUid()
    meta.creationTimestamp = timestamp()
    delete meta.resourceVersion
    delete meta.deletionTimestamp
    delete meta.deletionGracePeriodSeconds
    if (r.tracksGeneration) meta.generation = 1
    else delete meta.generation
    if (hasStatusSubresource(r) && r.kind !== 'Node') o.status = initialStatus(r, o)
    if (o.status === undefined) delete o.status
    applyDefaults(r, o)
    if (r.kind === 'Secret') foldStringData(o as V1Secret & KObject)
    if (r.kind === 'PersistentVolumeClaim') this.admitDefaultStorageClass(o)
    return withType(r, options.dryRun ? o : this.store.put(r, o))
  }

  update(r: ResourceType, namespace: string | undefined, name: string, body: unknown, sub: Subresource, options: WriteOptions = {}): KObject {
    const o = checkBody(r, body)
    if (o.metadata.name !== name) throw badRequest(`the name of the object (${o.metadata.name ?? ''}) does not match the name on the URL (${name})`)
    if (r.namespaced && o.metadata.namespace && o.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    }
    const current = this.store.get(r, namespace, name)
    if (!current) throw notFound(r, name)
    return withType(r, this.write(r, current, o, sub, options))
  }

  /** `created` is true when a server-side apply patch made the object (the API answers 201 then). */
  patch(r: ResourceType, namespace: string | undefined, name: string, type: PatchType, raw: string, sub: Subresource, options: WriteOptions = {}): {object: KObject; created: boolean} {
    const patch = parsePatch(type, raw)
    const current = this.store.get(r, namespace, name)
    if (!current) {
      if (type !== 'apply') throw notFound(r, name)
      if (!options.fieldManager) throw badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch')
      return {object: this.create(r, namespace, patch, options), created: true}
    }
    if (type === 'apply' && !options.fieldManager) throw badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch')
    const base = withType(r, current)
    const patched = type === 'json' ? jsonPatch(base, patch) : type === 'merge' ? mergePatch(base, patch) : strategicMerge(base, patch)
    if (!isPlainObject(patched)) throw new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request')
    const next = checkBody(r, patched)
    if (next.metadata.name !== name) throw badRequest(`the name of the object (${next.metadata.name ?? ''}) does not match the name on the URL (${name})`)
    return {object: withType(r, this.write(r, current, next, sub, options)), created: false}
  }

  /** Sets spec.nodeName as the scheduler's pods/binding does: once, and never on a pod being deleted. */
  bind(namespace: string, name: string, body: unknown): void {
    const binding = body as V1Binding
    if (!binding?.target?.name) throw invalid(PODS, name, [{reason: 'FieldValueRequired', message: 'Required value', field: 'target.name'}])
    const pod = this.store.get(PODS, namespace, name) as V1Pod & KObject | undefined
    if (!pod) throw notFound(PODS, name)
    const uid = binding.metadata?.uid
    if (uid && uid !== pod.metadata.uid) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`, {name, kind: 'pods/binding'})
    if (pod.metadata.deletionTimestamp) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is being deleted, cannot be assigned to a host`, {name, kind: 'pods/binding'})
    if (pod.spec?.nodeName) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${pod.spec.nodeName}"`, {name, kind: 'pods/binding'})
    pod.spec!.nodeName = binding.target.name
    const status = (pod.status ??= {})
    status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'),
      {type: 'PodScheduled', status: 'True', lastProbeTime: null as unknown as undefined, lastTransitionTime: timestamp() as unknown as Date}]
    this.store.put(PODS, pod)
  }

  delete(r: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): DeleteResult {
    const current = this.store.get(r, namespace, name)
    if (!current) throw notFound(r, name)
    const pre = options.preconditions
    if (pre?.uid && pre.uid !== current.metadata.uid) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${r.group ? `${r.plural}.${r.group}` : r.plural} "${name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`, {name, ...(r.group ? {group: r.group} : {}), kind: r.plural})
    }
    if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${r.group ? `${r.plural}.${r.group}` : r.plural} "${name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`, {name, ...(r.group ? {group: r.group} : {}), kind: r.plural})
    }
    if (options.dryRun) return {object: withType(r, current), removed: !current.metadata.finalizers?.length}
    if (r === NAMESPACES) return this.deleteNamespace(current)
    return this.deleteObject(r, current, options)
  }

  deleteCollection(r: ResourceType, namespace: string | undefined, labels: LabelSelector, fields: FieldSelector, options: DeleteOptions = {}): KObject[] {
    const {items} = this.list(r, namespace, labels, fields)
    return items.map((o) => {
      const fresh = this.store.get(r, o.metadata.namespace, o.metadata.name!)
      if (!fresh) return withType(r, o)
      if (options.dryRun) return withType(r, fresh)
      return withType(r, (r === NAMESPACES ? this.deleteNamespace(fresh) : this.deleteObject(r, fresh, options)).object)
    })
  }

  scale(namespace: string, name: string): KObject {
    const sts = this.store.get(STATEFULSETS, namespace, name) as (V1StatefulSet & KObject) | undefined
    if (!sts) throw notFound(STATEFULSETS, name)
    return toScale(sts)
  }

  /** Writes spec.replicas through the autoscaling/v1 Scale view; the Scale's resourceVersion is a precondition. */
  updateScale(namespace: string, name: string, scale: unknown): KObject {
    const sts = this.store.get(STATEFULSETS, namespace, name) as (V1StatefulSet & KObject) | undefined
    if (!sts) throw notFound(STATEFULSETS, name)
    if (!isPlainObject(scale) || !isPlainObject(scale.spec)) throw badRequest('Scale in version "v1" cannot be handled as a Scale: missing spec')
    const meta = (isPlainObject(scale.metadata) ? scale.metadata : {}) as KObject['metadata']
    const replicas = scale.spec.replicas ?? 0
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        {name, group: 'autoscaling', kind: 'Scale', causes: [{reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: 'spec.replicas'}]})
    }
    const next = clone(sts)
    next.metadata.resourceVersion = meta.resourceVersion || sts.metadata.resourceVersion
    next.spec!.replicas = replicas
    return toScale(this.write(STATEFULSETS, sts, next, 'main', {}) as V1StatefulSet & KObject)
  }

  patchScale(namespace: string, name: string, type: PatchType, raw: string): KObject {
    const current = this.scale(namespace, name)
    const patch = parsePatch(type, raw)
    const patched = type === 'json' ? jsonPatch(current, patch) : type === 'merge' ? mergePatch(current, patch) : strategicMerge(current, patch)
    return this.updateScale(namespace, name, patched)
  }

  /** The update path shared by PUT, PATCH and scale: preconditions, status separation, no-op detection. */
  private write(r: ResourceType, current: KObject, incoming: KObject, sub: Subresource, options: WriteOptions): KObject {
    const rv = incoming.metadata.resourceVersion
    if (rv && rv !== current.metadata.resourceVersion) throw conflict(r, current.metadata.name!)
    let next: KObject
    if (sub === 'status') {
      next = clone(current)
      next.status = incoming.status
      if (next.status === undefined) delete next.status
    } else {
      next = incoming
      if (hasStatusSubresource(r)) {
        next.status = current.status
        if (next.status === undefined) delete next.status
      }
      const m = next.metadata
      const c = current.metadata
      Object.assign(m, {
        name: c.name, namespace: c.namespace, uid: c.uid, creationTimestamp: c.creationTimestamp,
        deletionTimestamp: c.deletionTimestamp, deletionGracePeriodSeconds: c.deletionGracePeriodSeconds, generation: c.generation,
      })
      for (const k of ['namespace', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) if (m[k] === undefined) delete m[k]
      if (c.deletionTimestamp) {
        const added = (m.finalizers ?? []).filter((f) => !(c.finalizers ?? []).includes(f))
        if (added.length > 0) throw invalid(r, c.name!, [forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`)])
      }
      applyDefaults(r, next)
      if (r.kind === 'Secret') foldStringData(next as V1Secret & KObject)
      const causes = validateUpdate(r, current, next)
      if (causes.length > 0) throw invalid(r, c.name!, causes)
      if (r.tracksGeneration && !deepEqual(current.spec, next.spec)) m.generation = (c.generation ?? 0) + 1
    }
    delete next.kind
    delete next.apiVersion
    next.metadata.resourceVersion = current.metadata.resourceVersion
    if (deepEqual(stripType(current), next)) return current
    if (options.dryRun) return next
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length && next.metadata.deletionGracePeriodSeconds === 0) {
      return this.remove(r, next)
    }
    return this.store.put(r, next)
  }

  /** The DefaultStorageClass admission plugin: a claim that names no class gets the newest default class, if any. */
  private admitDefaultStorageClass(claim: KObject): void {
    const spec = claim.spec as {storageClassName?: string | null}
    if (spec.storageClassName !== undefined && spec.storageClassName !== null) return
    const chosen = newestDefaultClass(this.store.list(STORAGECLASSES))
    if (chosen) spec.storageClassName = chosen.metadata.name
  }

  private requireActiveNamespace(r: ResourceType, namespace: string, name: string): void {
    const ns = this.store.get(NAMESPACES, undefined, namespace)
    if (!ns) throw notFound(NAMESPACES, namespace)
    if (ns.metadata.deletionTimestamp) throw namespaceTerminating(r, name, namespace)
  }

  private deleteObject(r: ResourceType, current: KObject, options: DeleteOptions): DeleteResult {
    const meta = current.metadata
    const grace = this.gracePeriod(r, current, options.gracePeriodSeconds)
    const finalizers = [...(meta.finalizers ?? [])]
    const policy = options.propagationPolicy ?? 'Background'
    if (!meta.deletionTimestamp) {
      if (policy === 'Orphan' && this.dependentsOf(meta.uid!).length > 0) finalizers.push(ORPHAN)
      if (policy === 'Foreground' && this.dependentsOf(meta.uid!).length > 0) finalizers.push(FOREGROUND)
    }
    const alreadyDeleting = Boolean(meta.deletionTimestamp)
    const shortensGrace = alreadyDeleting && grace < (meta.deletionGracePeriodSeconds ?? 0)
    if (finalizers.length === 0 && grace === 0) return {object: withType(r, this.remove(r, current)), removed: true}
    if (alreadyDeleting && !shortensGrace) return {object: withType(r, current), removed: false}
    const next = clone(current)
    next.metadata.finalizers = finalizers.length > 0 ? finalizers : undefined
    if (!next.metadata.finalizers) delete next.metadata.finalizers
    next.metadata.deletionTimestamp = timestamp(new Date(Date.now() + grace * 1000))
    next.metadata.deletionGracePeriodSeconds = grace
    if (next.metadata.generation !== undefined && !alreadyDeleting) next.metadata.generation += 1
    let stored = this.store.put(r, next)
    if (!alreadyDeleting) {
      if (finalizers.includes(ORPHAN)) stored = this.orphanDependents(r, stored)
      if (finalizers.includes(FOREGROUND)) {
        for (const d of this.dependentsOf(meta.uid!)) this.deleteDependent(d.resource, d.object, 'Foreground')
        stored = this.store.get(r, meta.namespace, meta.name!) ?? stored
        this.finishForegroundDeletions()
        stored = this.store.get(r, meta.namespace, meta.name!) ?? stored
      }
    }
    return {object: withType(r, stored), removed: !this.store.get(r, meta.namespace, meta.name!)}
  }

  /** Pods bound to a node wait for their kubelet; unbound or finished pods, and every other kind, go at once. */
  private gracePeriod(r: ResourceType, o: KObject, requested: number | undefined): number {
    if (r !== PODS) return 0
    const pod = o as V1Pod & KObject
    if (!pod.spec?.nodeName) return 0
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0
    const grace = requested ?? pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30
    return Math.max(0, grace)
  }

  private deleteNamespace(ns: KObject): DeleteResult {
    if (!ns.metadata.deletionTimestamp) {
      const next = clone(ns)
      next.metadata.deletionTimestamp = timestamp()
      next.metadata.deletionGracePeriodSeconds = 0
      next.status = {...(next.status as V1Namespace['status']), phase: 'Terminating'}
      this.store.put(NAMESPACES, next)
      for (const {resource, object} of this.store.inNamespace(ns.metadata.name!)) {
        const fresh = this.store.get(resource, object.metadata.namespace, object.metadata.name!)
        if (fresh && !fresh.metadata.deletionTimestamp) this.deleteObject(resource, fresh, {})
      }
    }
    this.finalizeNamespace(ns.metadata.name!)
    const left = this.store.get(NAMESPACES, undefined, ns.metadata.name!)
    return {object: withType(NAMESPACES, left ?? ns), removed: !left}
  }

  /** The namespace controller's last step: a terminating namespace goes once nothing is left in it. */
  private finalizeNamespace(name: string): void {
    const ns = this.store.get(NAMESPACES, undefined, name)
    if (ns?.metadata.deletionTimestamp && this.store.inNamespace(name).length === 0) this.store.remove(NAMESPACES, ns)
  }

  private remove(r: ResourceType, o: KObject): KObject {
    const removed = this.store.remove(r, o)
    this.collectDependents(removed.metadata.uid!)
    this.finishForegroundDeletions()
    if (removed.metadata.namespace) this.finalizeNamespace(removed.metadata.namespace)
    return removed
  }

  private dependentsOf(uid: string): Array<{resource: ResourceType; object: KObject}> {
    return this.store.all().filter(({object}) => object.metadata.ownerReferences?.some((ref) => ref.uid === uid))
  }

  private ownerExists(uid: string): boolean {
    return this.store.all().some(({object}) => object.metadata.uid === uid && !object.metadata.deletionTimestamp)
  }

  /** The garbage collector's background pass: dependents whose last owner is gone are deleted too. */
  private collectDependents(ownerUid: string): void {
    for (const {resource, object} of this.dependentsOf(ownerUid)) {
      const others = object.metadata.ownerReferences!.filter((ref) => ref.uid !== ownerUid && this.ownerExists(ref.uid))
      if (others.length > 0) {
        this.dropOwnerReference(resource, object, ownerUid)
      } else {
        this.deleteDependent(resource, object, 'Background')
      }
    }
  }

  private deleteDependent(r: ResourceType, o: KObject, policy: Propagation): void {
    const fresh = this.store.get(r, o.metadata.namespace, o.metadata.name!)
    if (fresh && !fresh.metadata.deletionTimestamp) this.deleteObject(r, fresh, {propagationPolicy: policy})
  }

  private dropOwnerReference(r: ResourceType, o: KObject, ownerUid: string): KObject {
    const next = clone(o)
    next.metadata.ownerReferences = next.metadata.ownerReferences!.filter((ref) => ref.uid !== ownerUid)
    if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences
    return this.store.put(r, next)
  }

  /** Orphan propagation: dependents lose their reference to the owner, then the orphan finalizer is removed. */
  private orphanDependents(r: ResourceType, owner: KObject): KObject {
    for (const {resource, object} of this.dependentsOf(owner.metadata.uid!)) this.dropOwnerReference(resource, object, owner.metadata.uid!)
    return this.removeFinalizer(r, owner, ORPHAN)
  }

  /** Foreground propagation: an owner goes only after the last of its dependents. */
  private finishForegroundDeletions(): void {
    for (const {resource, object} of this.store.all()) {
      if (object.metadata.finalizers?.includes(FOREGROUND) && this.dependentsOf(object.metadata.uid!).length === 0) {
        this.removeFinalizer(resource, object, FOREGROUND)
      }
    }
  }

  private removeFinalizer(r: ResourceType, o: KObject, finalizer: string): KObject {
    const next = clone(o)
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== finalizer)
    if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers
    if (!next.metadata.finalizers && next.metadata.deletionGracePeriodSeconds === 0) return this.remove(r, next)
    return this.store.put(r, next)
  }
}

/** Objects are returned with kind and apiVersion set, as the real API server encodes them. */
export function withType(r: ResourceType, o: KObject): KObject {
  const {kind: _kind, apiVersion: _apiVersion, ...rest} = o
  return {kind: r.kind, apiVersion: apiVersionOf(r), ...rest}
}

function stripType(o: KObject): KObject {
  const {kind: _kind, apiVersion: _apiVersion, ...rest} = o
  return rest as KObject
}

function checkBody(r: ResourceType, body: unknown): KObject {
  if (!isPlainObject(body)) throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: the body must be a JSON object`)
  const o = clone(body) as KObject
  if (o.apiVersion !== undefined && o.apiVersion !== apiVersionOf(r)) {
    throw badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`)
  }
  if (o.kind !== undefined && o.kind !== r.kind) {
    throw badRequest(`${String(o.kind)} in version "${r.version}" cannot be handled as a ${r.kind}: no kind "${String(o.kind)}" is registered for version "${apiVersionOf(r)}"`)
  }
  if (o.metadata === undefined || o.metadata === null) o.metadata = {}
  if (!isPlainObject(o.metadata)) throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: metadata must be an object`)
  delete o.kind
  delete o.apiVersion
  return o
}

function parsePatch(type: PatchType, raw: string): unknown {
  try {
    return type === 'apply' ? parseYaml(raw) : JSON.parse(raw)
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`)
  }
}

/** Secrets' write-only stringData is folded into data (base64), as the registry does on every write. */
function foldStringData(secret: V1Secret & KObject): void {
  if (!secret.stringData) return
  secret.data = {...secret.data}
  for (const [k, v] of Object.entries(secret.stringData)) secret.data[k] = Buffer.from(v).toString('base64')
  delete secret.stringData
}

function selectorString(selector: {matchLabels?: Record<string, string>; matchExpressions?: Array<{key: string; operator: string; values?: string[]}>} | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`)
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key)
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`)
    else parts.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`)
  }
  return parts.join(',')
}

function toScale(sts: V1StatefulSet & KObject): KObject {
  const m = sts.metadata
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: {name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp},
    spec: {replicas: sts.spec?.replicas ?? 0},
    status: {replicas: sts.status?.replicas ?? 0, selector: selectorString(sts.spec?.selector)},
  }
}

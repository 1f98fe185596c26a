import {ApiError, badRequest, unsupportedMediaType} from './status.js'
import {clone, deepEqual, isPlainObject} from './object.js'

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply'

export function patchTypeOf(contentType: string | undefined): PatchType {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase()
  switch (media) {
    case 'application/json-patch+json': return 'json'
    case 'application/merge-patch+json': return 'merge'
    case 'application/strategic-merge-patch+json': return 'strategic'
    case 'application/apply-patch+yaml': return 'apply'
    default: throw unsupportedMediaType()
  }
}

/** RFC 7386: objects merge key by key, null deletes, anything else (lists included) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch)
  const result: Record<string, unknown> = isPlainObject(target) ? {...target} : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = mergePatch(result[key], value)
  }
  return result
}

interface JsonPatchOp {
  op: string
  path: string
  from?: string
  value?: unknown
}

const unescapePointer = (token: string): string => token.replace(/~1/g, '/').replace(/~0/g, '~')

function pointer(path: string): string[] {
  if (path === '') return []
  if (!path.startsWith('/')) throw badRequest(`the server rejected our request due to an error in our request`)
  return path.slice(1).split('/').map(unescapePointer)
}

function parentOf(doc: unknown, tokens: string[], path: string): {container: Record<string, unknown> | unknown[]; key: string} {
  let node = doc
  for (const t of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(t)] : isPlainObject(node) ? node[t] : undefined
    if (node === undefined) throw badRequest(`the server rejected our request due to an error in our request: doc is missing path: "${path}": missing value`)
  }
  if (!Array.isArray(node) && !isPlainObject(node)) throw badRequest(`the server rejected our request due to an error in our request: doc is missing path: "${path}": missing value`)
  return {container: node, key: tokens[tokens.length - 1]}
}

function getAt(doc: unknown, path: string): unknown {
  let node = doc
  for (const t of pointer(path)) {
    node = Array.isArray(node) ? node[Number(t)] : isPlainObject(node) ? node[t] : undefined
    if (node === undefined) throw badRequest(`the server rejected our request due to an error in our request: doc is missing path: "${path}": missing value`)
  }
  return node
}

function removeAt(doc: unknown, path: string): unknown {
  const {container, key} = parentOf(doc, pointer(path), path)
  if (Array.isArray(container)) {
    const i = Number(key)
    if (!(i >= 0 && i < container.length)) throw badRequest(`the server rejected our request due to an error in our request: unable to remove nonexistent key: ${key}: missing value`)
    return container.splice(i, 1)[0]
  }
  if (!Object.hasOwn(container, key)) throw badRequest(`the server rejected our request due to an error in our request: unable to remove nonexistent key: ${key}: missing value`)
  const old = container[key]
  delete container[key]
  return old
}

function addAt(doc: unknown, path: string, value: unknown, replace: boolean): unknown {
  const tokens = pointer(path)
  if (tokens.length === 0) return clone(value)
  const {container, key} = parentOf(doc, tokens, path)
  if (Array.isArray(container)) {
    const i = key === '-' ? container.length : Number(key)
    if (!(i >= 0 && i <= container.length)) throw badRequest(`the server rejected our request due to an error in our request: add operation does not apply: doc is missing path: "${path}": missing value`)
    if (replace) container[i] = clone(value)
    else container.splice(i, 0, clone(value))
  } else {
    if (replace && !Object.hasOwn(container, key)) throw badRequest(`the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: ${path}: missing value`)
    container[key] = clone(value)
  }
  return doc
}

/** RFC 6902, with the error wording of evanphx/json-patch as the API server reports it. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch')
  let doc = clone(target)
  for (const raw of ops as JsonPatchOp[]) {
    switch (raw.op) {
      case 'add': doc = addAt(doc, raw.path, raw.value, false); break
      case 'replace': doc = addAt(doc, raw.path, raw.value, true); break
      case 'remove': removeAt(doc, raw.path); break
      case 'move': doc = addAt(doc, raw.path, removeAt(doc, raw.from ?? ''), false); break
      case 'copy': doc = addAt(doc, raw.path, getAt(doc, raw.from ?? ''), false); break
      case 'test':
        if (!deepEqual(getAt(doc, raw.path), raw.value)) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value ${raw.path} failed: test failed`)
        break
      default: throw badRequest(`the server rejected our request due to an error in our request: Unexpected kind: ${String(raw.op)}`)
    }
  }
  return doc
}

/**
 * The patchMergeKey of each list that the Kubernetes types merge (patchStrategy:"merge"), by field name. Lists not
 * named here are replaced whole, as their Go types say. `ports` depends on where it is: a container's or a Service's.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name', volumes: 'name', env: 'name',
  imagePullSecrets: 'name', volumeMounts: 'mountPath', volumeDevices: 'devicePath', conditions: 'type',
  addresses: 'type', podIPs: 'ip', hostIPs: 'ip', ownerReferences: 'uid', hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey', resourceClaims: 'name', readinessGates: 'conditionType',
}

/** Lists of scalars that merge as sets. */
const SET_LISTS = new Set(['finalizers'])

function mergeKeyFor(field: string, parents: string[]): string | undefined {
  if (field === 'ports') return parents.some((p) => p === 'containers' || p === 'initContainers' || p === 'ephemeralContainers') ? 'containerPort' : 'port'
  return MERGE_KEYS[field]
}

function orderBy(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const identity = (v: unknown): unknown => (key && isPlainObject(v) ? v[key] : v)
  const wanted = order.map(identity)
  const ordered = wanted.flatMap((w) => list.filter((v) => deepEqual(identity(v), w)))
  return [...ordered, ...list.filter((v) => !wanted.some((w) => deepEqual(identity(v), w)))]
}

function mergeList(original: unknown, patch: unknown[], field: string, parents: string[]): unknown[] {
  const key = mergeKeyFor(field, parents)
  const base = Array.isArray(original) ? clone(original) : []
  if (patch.some((item) => isPlainObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isPlainObject(item) && item.$patch === 'replace')).map((item) => clone(item))
  }
  if (SET_LISTS.has(field)) return [...base, ...patch.filter((v) => !base.some((b) => deepEqual(b, v)))]
  if (!key) return clone(patch)
  const result = base
  for (const item of patch) {
    if (!isPlainObject(item)) continue
    const index = result.findIndex((e) => isPlainObject(e) && deepEqual(e[key], item[key]))
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1)
    } else if (index >= 0) {
      result[index] = strategicMerge(result[index], item, [...parents, field])
    } else {
      result.push(strategicMerge({}, item, [...parents, field]))
    }
  }
  return result
}

/**
 * Strategic merge patch (apimachinery's strategicpatch) for the fields the Kubernetes types in use declare: lists merged
 * by their patchMergeKey, `$patch: delete|replace`, `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…`.
 */
export function strategicMerge(original: unknown, patch: unknown, parents: string[] = []): unknown {
  if (!isPlainObject(patch)) return clone(patch)
  if (patch.$patch === 'replace') {
    const {$patch: _directive, ...rest} = patch
    return strategicMerge({}, rest, parents)
  }
  if (patch.$patch === 'delete') return undefined
  const result: Record<string, unknown> = isPlainObject(original) ? {...original} : {}
  if (Array.isArray(patch.$retainKeys)) {
    for (const k of Object.keys(result)) if (!patch.$retainKeys.includes(k)) delete result[k]
  }
  const orders: Array<[string, unknown[]]> = []
  for (const [k, value] of Object.entries(patch)) {
    if (k === '$retainKeys' || k === '$patch') continue
    if (k.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders.push([k.slice('$setElementOrder/'.length), value])
      continue
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length)
      if (Array.isArray(result[field]) && Array.isArray(value)) result[field] = (result[field] as unknown[]).filter((v) => !value.includes(v))
      continue
    }
    if (value === null) {
      delete result[k]
    } else if (Array.isArray(value)) {
      result[k] = mergeList(result[k], value, k, parents)
    } else if (isPlainObject(value)) {
      const merged = strategicMerge(result[k], value, [...parents, k])
      if (merged === undefined) delete result[k]
      else result[k] = merged
    } else {
      result[k] = value
    }
  }
  for (const [field, order] of orders) {
    if (Array.isArray(result[field])) result[field] = orderBy(result[field] as unknown[], order, mergeKeyFor(field, parents))
  }
  return result
}

import type {IncomingMessage, ServerResponse} from 'node:http'

import {parse as parseYaml} from 'yaml'

import {selectableFieldNames} from './fields.js'
import {isPlainObject, type KObject} from './object.js'
import {patchTypeOf} from './patch.js'
import type {ResourcePath} from './paths.js'
import {PROTOBUF, toJson, unwrap} from './protobuf.js'
import {PROTOBUF_KINDS} from './protobuf-kinds.js'
import {type DeleteOptions, type Propagation, type Registry, type Subresource} from './registry.js'
import {parseFieldSelector, parseLabelSelector} from './selectors.js'
import {ApiError, badRequest, methodNotAllowed, success} from './status.js'
import {type IncludeObject, toTable} from './table.js'
import {serveWatch} from './watch.js'

export interface RequestContext {
  registry: Registry
  /** Registers an open watch so that close() can end it. */
  trackWatch(end: () => void): () => void
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(code, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)})
  res.end(text)
}

export function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.code, error.toStatus())
}

export async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString('utf8')
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw badRequest(`json: ${(error as Error).message}`)
  }
}

/**
 * Request bodies in JSON or YAML, or protobuf for the kinds of kubectl's `create` generators, decoded to the JSON
 * object kubectl would have sent so that admission, RBAC and storage see no difference. Protobuf of other kinds is
 * refused with 415, as a server without that codec would.
 */
async function readObject(req: IncomingMessage): Promise<unknown> {
  const media = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase()
  if (media === 'application/yaml') {
    const text = await readBody(req)
    try {
      return parseYaml(text)
    } catch (error) {
      throw badRequest(`yaml: ${(error as Error).message}`)
    }
  }
  if (media === PROTOBUF) {
    const {apiVersion, kind, object} = unwrap(await readBytes(req))
    const schema = kind === undefined ? undefined : PROTOBUF_KINDS[kind]
    if (schema === undefined) throw unsupportedMedia(`${kind ?? 'an object'} cannot be sent as protobuf to the sandbox`)
    return {apiVersion, kind, ...toJson(object, schema, kind!)}
  }
  if (media !== 'application/json' && media !== '*/*') {
    req.resume()
    throw unsupportedMedia('the body of the request was in an unknown format')
  }
  return parseJson(await readBody(req))
}

const unsupportedMedia = (why: string): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `${why} - accepted media types include: application/json, application/yaml`)

const wantsTable = (req: IncomingMessage): boolean => /as=Table/.test(req.headers.accept ?? '')

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject')
  return v === 'None' || v === 'Object' ? v : 'PartialObjectMetadata'
}

const isDryRun = (q: URLSearchParams): boolean => q.getAll('dryRun').includes('All')

function deleteOptions(body: string, q: URLSearchParams): DeleteOptions {
  const parsed = body.trim() ? parseJson(body) : {}
  const o = isPlainObject(parsed) ? parsed : {}
  const grace = q.get('gracePeriodSeconds') ?? o.gracePeriodSeconds
  const policy = q.get('propagationPolicy') ?? o.propagationPolicy ?? (o.orphanDependents === true ? 'Orphan' : undefined)
  if (policy !== undefined && policy !== null && !['Orphan', 'Background', 'Foreground'].includes(String(policy))) {
    throw badRequest(`DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan", "nil"`)
  }
  return {
    gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace),
    propagationPolicy: (policy ?? undefined) as Propagation | undefined,
    preconditions: isPlainObject(o.preconditions) ? o.preconditions as DeleteOptions['preconditions'] : undefined,
    dryRun: isDryRun(q) || (Array.isArray(o.dryRun) && o.dryRun.includes('All')),
  }
}

/** Serves one request on a resource path: the verbs, their subresources, Table output and watches. */
export async function handleResource(req: IncomingMessage, res: ServerResponse, url: URL, path: ResourcePath, ctx: RequestContext): Promise<void> {
  const {registry} = ctx
  const {resource: r, namespace, name, subresource} = path
  const q = url.searchParams
  const method = req.method ?? 'GET'
  const write = {dryRun: isDryRun(q), fieldManager: q.get('fieldManager') ?? undefined}
  const render = (o: KObject, rv: string): unknown => (wantsTable(req) ? toTable(r, [o], rv, includeObject(q)) : o)

  if (subresource === 'portforward') throw badRequest('Upgrade request required')
  if (subresource === 'binding') {
    if (method !== 'POST') throw methodNotAllowed()
    registry.bind(namespace!, name!, await readObject(req))
    return sendJson(res, 201, {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201})
  }
  if (subresource === 'scale') {
    if (method === 'GET') return sendJson(res, 200, registry.scale(namespace!, name!))
    if (method === 'PUT') return sendJson(res, 200, registry.updateScale(namespace!, name!, await readObject(req)))
    if (method === 'PATCH') return sendJson(res, 200, registry.patchScale(namespace!, name!, patchTypeOf(req.headers['content-type']), await readBody(req)))
    throw methodNotAllowed()
  }
  const sub: Subresource = subresource === 'status' ? 'status' : 'main'
  if (name === undefined) {
    const labels = parseLabelSelector(q.get('labelSelector'))
    const fields = parseFieldSelector(q.get('fieldSelector'), selectableFieldNames(r))
    switch (method) {
      case 'GET': {
        if (q.get('watch') === 'true' || q.get('watch') === '1') {
          const timeout = q.get('timeoutSeconds')
          const table = wantsTable(req)
          let untrack = (): void => {}
          const end = serveWatch(registry.store, res, {
            resource: r, namespace, labels, fields,
            resourceVersion: q.get('resourceVersion') ?? undefined,
            timeoutSeconds: timeout ? Number(timeout) : undefined,
            allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true',
            sendInitialEvents: q.get('sendInitialEvents') === 'true',
            render: (o) => (table ? toTable(r, [o], o.metadata.resourceVersion ?? '', includeObject(q)) : o),
          }, () => untrack())
          untrack = ctx.trackWatch(end)
          return
        }
        const {items, resourceVersion} = registry.list(r, namespace, labels, fields)
        if (wantsTable(req)) return sendJson(res, 200, toTable(r, items, resourceVersion, includeObject(q)))
        return sendJson(res, 200, {kind: `${r.kind}List`, apiVersion: r.group ? `${r.group}/${r.version}` : r.version, metadata: {resourceVersion}, items})
      }
      case 'POST': {
        const created = registry.create(r, namespace, await readObject(req), write)
        return sendJson(res, 201, render(created, created.metadata.resourceVersion ?? ''))
      }
      case 'DELETE': {
        const deleted = registry.deleteCollection(r, namespace, labels, fields, deleteOptions(await readBody(req), q))
        return sendJson(res, 200, {kind: `${r.kind}List`, apiVersion: r.group ? `${r.group}/${r.version}` : r.version, metadata: {resourceVersion: String(registry.store.resourceVersion)}, items: deleted})
      }
      default: throw methodNotAllowed()
    }
  }
  switch (method) {
    case 'GET': {
      const o = registry.get(r, namespace, name)
      return sendJson(res, 200, render(o, o.metadata.resourceVersion ?? ''))
    }
    case 'PUT': return sendJson(res, 200, registry.update(r, namespace, name, await readObject(req), sub, write))
    case 'PATCH': {
      const type = patchTypeOf(req.headers['content-type'])
      const {object, created} = registry.patch(r, namespace, name, type, await readBody(req), sub, write)
      return sendJson(res, created ? 201 : 200, render(object, object.metadata.resourceVersion ?? ''))
    }
    case 'DELETE': {
      if (sub !== 'main') throw methodNotAllowed()
      const {object, removed} = registry.delete(r, namespace, name, deleteOptions(await readBody(req), q))
      // Pods and namespaces answer with the object (ReturnDeletedObject); other kinds with a Success Status.
      if (removed && r.kind !== 'Pod' && r.kind !== 'Namespace') return sendJson(res, 200, success(r, name, object.metadata.uid!))
      return sendJson(res, removed ? 200 : 202, object)
    }
    default: throw methodNotAllowed()
  }
}

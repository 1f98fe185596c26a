import type {ServerResponse} from 'node:http'

import {selectableFields} from './fields.js'
import {clone, type KObject} from './object.js'
import {withType} from './registry.js'
import type {ResourceType} from './resources.js'
import type {FieldSelector, LabelSelector} from './selectors.js'
import {badRequest, gone} from './status.js'
import type {Store, StoreEvent} from './store.js'

export interface WatchRequest {
  resource: ResourceType
  namespace?: string
  labels: LabelSelector
  fields: FieldSelector
  resourceVersion?: string
  timeoutSeconds?: number
  allowWatchBookmarks: boolean
  sendInitialEvents?: boolean
  /** Turns each event's object into what the client asked for (the object itself, or a Table row). */
  render: (object: KObject) => unknown
}

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

/**
 * One watch as the real API server streams it: newline-delimited JSON events over a chunked 200 response. A watch
 * without resourceVersion (or "0") starts with ADDED for every current object; from resourceVersion N it replays the
 * history after N, or sends a 410 Expired ERROR event when that history is gone. Returns a function ending the watch.
 */
export function serveWatch(store: Store, res: ServerResponse, w: WatchRequest, onEnd: () => void): () => void {
  const matches = (o: KObject | undefined): boolean =>
    o !== undefined && (w.namespace === undefined || o.metadata.namespace === w.namespace) &&
    w.labels.matches(o.metadata.labels) && w.fields.matches(selectableFields(w.resource, o))
  const send = (type: WatchEventType, object: unknown): void => {
    res.write(JSON.stringify({type, object}) + '\n')
  }
  const sendChange = (e: StoreEvent): void => {
    if (e.resource !== w.resource) return
    const now = matches(e.object)
    const before = e.type === 'MODIFIED' && matches(e.previous)
    if (e.type === 'MODIFIED' && !now && before) {
      // An object leaving the selection is a deletion to this watcher, reported as it was but at the new version.
      const left = clone(e.previous!)
      left.metadata.resourceVersion = String(e.resourceVersion)
      send('DELETED', w.render(withType(w.resource, left)))
    } else if (now) {
      send(e.type === 'MODIFIED' && !before ? 'ADDED' : e.type, w.render(withType(w.resource, e.object)))
    }
  }

  const rv = w.resourceVersion
  if (rv && !/^\d+$/.test(rv)) throw badRequest(`invalid resource version: "${rv}"`)
  res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private'})
  res.flushHeaders()
  let ended = false
  let timer: NodeJS.Timeout | undefined
  let unsubscribe = (): void => {}
  const end = (): void => {
    if (ended) return
    ended = true
    if (timer) clearTimeout(timer)
    unsubscribe()
    res.end()
    onEnd()
  }
  res.once('close', end)

  const fromNow = rv === undefined || rv === '' || rv === '0'
  if (fromNow || w.sendInitialEvents) {
    for (const o of store.list(w.resource, w.namespace)) if (matches(o)) send('ADDED', w.render(withType(w.resource, o)))
    if (w.sendInitialEvents && w.allowWatchBookmarks) {
      send('BOOKMARK', {kind: w.resource.kind, apiVersion: withType(w.resource, {metadata: {}}).apiVersion,
        metadata: {resourceVersion: String(store.resourceVersion), annotations: {'k8s.io/initial-events-end': 'true'}}})
    }
  } else {
    const history = store.since(Number(rv))
    if (history === undefined) {
      send('ERROR', gone(rv, store.oldestResumable + 1).toStatus())
      end()
      return end
    }
    history.forEach(sendChange)
  }
  unsubscribe = store.subscribe(sendChange)
  if (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0) timer = setTimeout(end, w.timeoutSeconds * 1000)
  return end
}

import type {KObject} from './object.js'
import type {ResourceType} from './resources.js'

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface StoreEvent {
  type: EventType
  resource: ResourceType
  object: KObject
  /** The object before a MODIFIED change, so that selector watches can turn it into ADDED or DELETED. */
  previous?: KObject
  resourceVersion: number
}

const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`

/**
 * Objects in memory, one global resourceVersion counter (etcd's revision), and a bounded history of changes for
 * watches that resume from a resourceVersion. Stored objects are never handed out: callers get and give copies.
 */
export class Store {
  private revision = 0
  private readonly tables = new Map<ResourceType, Map<string, KObject>>()
  private readonly history: StoreEvent[] = []
  /** Events up to this revision have been dropped from history; a watch from before it gets 410 Gone. */
  private compacted = 0
  private readonly listeners = new Set<(event: StoreEvent) => void>()

  constructor(private readonly historyLimit: number) {}

  get resourceVersion(): number {
    return this.revision
  }

  get oldestResumable(): number {
    return this.compacted
  }

  get(r: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    const o = this.table(r).get(keyOf(namespace, name))
    return o && structuredClone(o)
  }

  /** Sorted by namespace then name, as etcd returns keys. */
  list(r: ResourceType, namespace?: string): KObject[] {
    const entries = [...this.table(r).entries()]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return entries.map(([, o]) => structuredClone(o))
  }

  /** Every stored object in a namespace, across resource types. */
  inNamespace(namespace: string): Array<{resource: ResourceType; object: KObject}> {
    return [...this.tables.entries()].flatMap(([resource, table]) =>
      [...table.values()].filter((o) => o.metadata.namespace === namespace).map((o) => ({resource, object: structuredClone(o)})))
  }

  all(): Array<{resource: ResourceType; object: KObject}> {
    return [...this.tables.entries()].flatMap(([resource, table]) => [...table.values()].map((o) => ({resource, object: structuredClone(o)})))
  }

  /** Stores a new or changed object under a fresh resourceVersion and returns what was stored. */
  put(r: ResourceType, object: KObject): KObject {
    const key = keyOf(object.metadata.namespace, object.metadata.name!)
    const previous = this.table(r).get(key)
    const stored = structuredClone(object)
    stored.metadata.resourceVersion = String(++this.revision)
    this.table(r).set(key, stored)
    this.emit({type: previous ? 'MODIFIED' : 'ADDED', resource: r, object: stored, previous, resourceVersion: this.revision})
    return structuredClone(stored)
  }

  /** The DELETED event carries the deletion's own resourceVersion, as etcd's delete revision. */
  remove(r: ResourceType, object: KObject): KObject {
    const key = keyOf(object.metadata.namespace, object.metadata.name!)
    const stored = this.table(r).get(key)
    if (!stored) return object
    this.table(r).delete(key)
    const removed = structuredClone(stored)
    removed.metadata.resourceVersion = String(++this.revision)
    this.emit({type: 'DELETED', resource: r, object: removed, resourceVersion: this.revision})
    return structuredClone(removed)
  }

  /** Changes after a revision, or undefined when history no longer reaches back that far. */
  since(revision: number): StoreEvent[] | undefined {
    if (revision < this.compacted) return undefined
    return this.history.filter((e) => e.resourceVersion > revision)
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(event: StoreEvent): void {
    this.history.push(event)
    while (this.history.length > this.historyLimit) this.compacted = this.history.shift()!.resourceVersion
    for (const listener of this.listeners) listener(event)
  }

  private table(r: ResourceType): Map<string, KObject> {
    let t = this.tables.get(r)
    if (!t) {
      t = new Map()
      this.tables.set(r, t)
    }
    return t
  }
}

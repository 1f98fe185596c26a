import {ApiException, CoreV1Api, PatchStrategy, setHeaderOptions, type V1ObjectMeta} from '@kubernetes/client-node'

/** The HTTP status of a failed API call, or undefined when the call did not get an answer. */
export function apiCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined
}

/** Runs an API call whose listed failure codes mean "already done" (409 on create, 404 on delete). */
export async function tolerate<T>(codes: number[], call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call()
  } catch (error) {
    if (codes.includes(apiCode(error) ?? -1)) return undefined
    throw error
  }
}

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
/** Status conditions are a list merged by type only under a strategic merge patch. */
export const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)

/** Epoch ms of a timestamp that came either through the typed deserializer (Date) or raw from a watch (string). */
export function toTime(value: Date | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined
  const time = new Date(value).getTime()
  return Number.isNaN(time) ? undefined : time
}

export function objectKey(meta: V1ObjectMeta | undefined): string {
  return meta?.namespace ? `${meta.namespace}/${meta.name}` : `${meta?.name}`
}

export function splitKey(key: string): {namespace: string; name: string} {
  const slash = key.indexOf('/')
  return {namespace: key.slice(0, slash), name: key.slice(slash + 1)}
}

export interface EventTarget {
  apiVersion: string
  kind: string
  metadata?: V1ObjectMeta
}

/**
 * Writes core/v1 Events the way client-go's recorder does (`<name>.<hex nanos>`), so `kubectl describe` and
 * `kubectl get events` show them. Fire and forget: a lost event must never stop a reconcile.
 */
export class EventRecorder {
  private readonly pending = new Set<Promise<unknown>>()
  private sequence = 0

  constructor(
    private readonly core: CoreV1Api,
    private readonly component: string,
    private readonly log: (line: string) => void,
  ) {}

  record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const namespace = target.metadata?.namespace || 'default'
    const now = new Date()
    this.sequence = (this.sequence + 1) % 1000
    const unique = (BigInt(now.getTime()) * 1_000_000n + BigInt(this.sequence)).toString(16)
    const write = this.core
      .createNamespacedEvent({
        namespace,
        body: {
          metadata: {name: `${target.metadata?.name}.${unique}`, namespace},
          involvedObject: {
            apiVersion: target.apiVersion,
            kind: target.kind,
            name: target.metadata?.name,
            namespace: target.metadata?.namespace,
            uid: target.metadata?.uid,
            resourceVersion: target.metadata?.resourceVersion,
          },
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: {component: this.component},
          reportingComponent: this.component,
          reportingInstance: this.component,
        },
      })
      .catch((error: unknown) => this.log(`event ${reason} for ${target.kind} ${target.metadata?.name} not written: ${String(error)}`))
    this.pending.add(write)
    void write.finally(() => this.pending.delete(write))
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending])
  }
}

import type {KObject} from './object.js'
import type {ResourceType} from './resources.js'

type Getter = (o: KObject) => unknown

const path = (...keys: string[]): Getter => (o) => keys.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o)

/** The fields each resource's registry strategy exposes to field selectors (as in pkg/registry/*\/strategy.go). */
const SELECTABLE: Record<string, Record<string, Getter>> = {
  pods: {
    'spec.nodeName': path('spec', 'nodeName'),
    'spec.restartPolicy': path('spec', 'restartPolicy'),
    'spec.schedulerName': path('spec', 'schedulerName'),
    'spec.serviceAccountName': path('spec', 'serviceAccountName'),
    'spec.hostNetwork': (o) => String(Boolean(path('spec', 'hostNetwork')(o))),
    'status.phase': path('status', 'phase'),
    'status.podIP': path('status', 'podIP'),
    'status.nominatedNodeName': path('status', 'nominatedNodeName'),
  },
  namespaces: {'status.phase': path('status', 'phase')},
  nodes: {'spec.unschedulable': (o) => String(Boolean(path('spec', 'unschedulable')(o)))},
  secrets: {type: path('type')},
  events: Object.fromEntries([
    ...['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map((k) => [`involvedObject.${k}`, path('involvedObject', k)]),
    ['reason', path('reason')], ['reportingComponent', path('reportingComponent')], ['type', path('type')],
    ['source', (o: KObject) => path('source', 'component')(o) ?? path('reportingComponent')(o)],
  ]),
}

export function selectableFieldNames(r: ResourceType): string[] {
  return ['metadata.name', 'metadata.namespace', ...Object.keys(SELECTABLE[r.plural] ?? {})]
}

/** Absent fields select as the empty string: `spec.nodeName=` finds the pods no scheduler has bound yet. */
export function selectableFields(r: ResourceType, o: KObject): Record<string, string> {
  const fields: Record<string, string> = {'metadata.name': o.metadata.name ?? '', 'metadata.namespace': o.metadata.namespace ?? ''}
  for (const [name, get] of Object.entries(SELECTABLE[r.plural] ?? {})) {
    const v = get(o)
    fields[name] = v === undefined || v === null ? '' : String(v)
  }
  return fields
}

import type {
  CoreV1Event, V1ConfigMap, V1ControllerRevision, V1Namespace, V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod,
  V1PodDisruptionBudget, V1Secret, V1Service, V1StatefulSet, V1StorageClass,
} from '@kubernetes/client-node'

import {isDefaultStorageClass} from '../storage-class.js'
import type {KObject} from './object.js'
import type {ResourceType} from './resources.js'

interface Column {
  name: string
  type: 'string' | 'integer' | 'date' | 'boolean'
  format?: 'name'
  description: string
  /** 0 for default output, 1 for `-o wide` only. */
  priority: 0 | 1
}

type Cell = string | number | boolean
interface Printer {
  columns: Column[]
  cells(o: KObject, now: number): Cell[]
}

const col = (name: string, priority: 0 | 1 = 0, type: Column['type'] = 'string'): Column =>
  ({name, type, ...(name === 'Name' ? {format: 'name' as const} : {}), description: name, priority})

/** apimachinery's duration.HumanDuration, as kubectl shows AGE. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < -1) return '<invalid>'
  if (s < 0) return '0s'
  if (s < 120) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`
  if (m < 180) return `${m}m`
  const h = Math.floor(m / 60)
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`
  if (h < 48) return `${h}h`
  if (h < 192) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`
  const y = Math.floor(h / 24 / 365)
  return y < 8 ? `${y}y${Math.floor(h / 24) % 365}d` : `${y}y`
}

const age = (o: KObject, now: number): string =>
  o.metadata.creationTimestamp ? humanDuration(now - Date.parse(o.metadata.creationTimestamp)) : '<unknown>'

const orNone = (v: string | undefined): string => (v ? v : '<none>')
const count = (m: Record<string, unknown> | undefined): number => Object.keys(m ?? {}).length

function podStatus(pod: V1Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating'
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting?.reason)
  if (waiting) return waiting.state!.waiting!.reason!
  const terminated = pod.status?.containerStatuses?.find((c) => c.state?.terminated)
  if (terminated) return terminated.state!.terminated!.reason ?? 'Completed'
  return pod.status?.reason ?? pod.status?.phase ?? 'Pending'
}

function podRestarts(pod: V1Pod): string {
  const total = (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0)
  return String(total)
}

function nodeStatus(node: V1Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')
  const base = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'
  return node.spec?.unschedulable ? `${base},SchedulingDisabled` : base
}

function nodeRoles(node: V1Node): string {
  const roles = Object.keys(node.metadata?.labels ?? {}).filter((l) => l.startsWith('node-role.kubernetes.io/')).map((l) => l.slice(24))
  return roles.length ? roles.join(',') : '<none>'
}

const accessModes = (modes: string[] | undefined): string =>
  (modes ?? []).map((m) => ({ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP'})[m] ?? m).join(',')

const servicePorts = (svc: V1Service): string =>
  (svc.spec?.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>'

const selectorText = (m: Record<string, string> | undefined): string =>
  Object.keys(m ?? {}).length ? Object.entries(m!).map(([k, v]) => `${k}=${v}`).join(',') : '<none>'

const intOrString = (v: unknown): string => (v === undefined || v === null ? 'N/A' : String(v))

const CREATED: Printer = {
  columns: [col('Name'), col('Created At', 0, 'date')],
  cells: (o) => [o.metadata.name!, o.metadata.creationTimestamp ?? ''],
}

interface BindingObject {
  roleRef?: {kind?: string; name?: string}
  subjects?: Array<{kind?: string; name?: string; namespace?: string}>
}

const BINDING: Printer = {
  columns: [col('Name'), col('Role'), col('Age'), col('Users', 1), col('Groups', 1), col('ServiceAccounts', 1)],
  cells: (o, now) => {
    const b = o as BindingObject
    const of = (kind: string): string => (b.subjects ?? []).filter((s) => s.kind === kind)
      .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? o.metadata.namespace ?? ''}/${s.name}` : s.name)).join(', ')
    return [o.metadata.name!, `${b.roleRef?.kind}/${b.roleRef?.name}`, age(o, now), of('User'), of('Group'), of('ServiceAccount')]
  },
}

/** The columns of the real API server's printers (pkg/printers/internalversion/printers.go) for the kinds in use. */
const PRINTERS: Record<string, Printer> = {
  Role: CREATED,
  ClusterRole: CREATED,
  RoleBinding: BINDING,
  ClusterRoleBinding: BINDING,
  ServiceAccount: {
    columns: [col('Name'), col('Secrets', 0, 'integer'), col('Age')],
    cells: (o, now) => [o.metadata.name!, ((o.secrets as unknown[] | undefined) ?? []).length, age(o, now)],
  },
  Pod: {
    columns: [col('Name'), col('Ready'), col('Status'), col('Restarts', 0, 'string'), col('Age'), col('IP', 1), col('Node', 1), col('Nominated Node', 1), col('Readiness Gates', 1)],
    cells: (o, now) => {
      const pod = o as V1Pod
      const statuses = pod.status?.containerStatuses ?? []
      return [o.metadata.name!, `${statuses.filter((c) => c.ready).length}/${pod.spec?.containers.length ?? 0}`, podStatus(pod),
        podRestarts(pod), age(o, now), orNone(pod.status?.podIP), orNone(pod.spec?.nodeName), orNone(pod.status?.nominatedNodeName), '<none>']
    },
  },
  Node: {
    columns: [col('Name'), col('Status'), col('Roles'), col('Age'), col('Version'), col('Internal-IP', 1), col('External-IP', 1), col('OS-Image', 1), col('Kernel-Version', 1), col('Container-Runtime', 1)],
    cells: (o, now) => {
      const node = o as V1Node
      const info = node.status?.nodeInfo
      const address = (type: string): string => orNone(node.status?.addresses?.find((a) => a.type === type)?.address)
      return [o.metadata.name!, nodeStatus(node), nodeRoles(node), age(o, now), info?.kubeletVersion ?? '', address('InternalIP'), address('ExternalIP'),
        orNone(info?.osImage), orNone(info?.kernelVersion), orNone(info?.containerRuntimeVersion)]
    },
  },
  PersistentVolumeClaim: {
    columns: [col('Name'), col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), col('VolumeAttributesClass'), col('Age'), col('VolumeMode', 1)],
    cells: (o, now) => {
      const pvc = o as V1PersistentVolumeClaim
      const bound = pvc.status?.phase === 'Bound'
      return [o.metadata.name!, pvc.metadata?.deletionTimestamp ? 'Terminating' : pvc.status?.phase ?? 'Pending', pvc.spec?.volumeName ?? '',
        bound ? String(pvc.status?.capacity?.storage ?? '') : '', bound ? accessModes(pvc.status?.accessModes) : '',
        pvc.spec?.storageClassName ?? '', orNone(pvc.spec?.volumeAttributesClassName), age(o, now), pvc.spec?.volumeMode ?? 'Filesystem']
    },
  },
  PersistentVolume: {
    columns: [col('Name'), col('Capacity'), col('Access Modes'), col('Reclaim Policy'), col('Status'), col('Claim'), col('StorageClass'), col('VolumeAttributesClass'), col('Reason'), col('Age'), col('VolumeMode', 1)],
    cells: (o, now) => {
      const pv = o as V1PersistentVolume
      const claim = pv.spec?.claimRef ? `${pv.spec.claimRef.namespace}/${pv.spec.claimRef.name}` : ''
      return [o.metadata.name!, String(pv.spec?.capacity?.storage ?? ''), accessModes(pv.spec?.accessModes), pv.spec?.persistentVolumeReclaimPolicy ?? '',
        pv.metadata?.deletionTimestamp ? 'Terminating' : pv.status?.phase ?? '', claim, pv.spec?.storageClassName ?? '', orNone(pv.spec?.volumeAttributesClassName),
        pv.status?.reason ?? '', age(o, now), pv.spec?.volumeMode ?? 'Filesystem']
    },
  },
  StatefulSet: {
    columns: [col('Name'), col('Ready'), col('Age'), col('Containers', 1), col('Images', 1)],
    cells: (o, now) => {
      const sts = o as V1StatefulSet
      const containers = sts.spec?.template.spec?.containers ?? []
      return [o.metadata.name!, `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 0}`, age(o, now),
        containers.map((c) => c.name).join(','), containers.map((c) => c.image).join(',')]
    },
  },
  Service: {
    columns: [col('Name'), col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), col('Age'), col('Selector', 1)],
    cells: (o, now) => {
      const svc = o as V1Service
      return [o.metadata.name!, svc.spec?.type ?? 'ClusterIP', svc.spec?.clusterIP ?? '', orNone(svc.spec?.externalIPs?.join(',')),
        servicePorts(svc), age(o, now), selectorText(svc.spec?.selector)]
    },
  },
  ConfigMap: {
    columns: [col('Name'), col('Data', 0, 'integer'), col('Age')],
    cells: (o, now) => [o.metadata.name!, count((o as V1ConfigMap).data) + count((o as V1ConfigMap).binaryData), age(o, now)],
  },
  Secret: {
    columns: [col('Name'), col('Type'), col('Data', 0, 'integer'), col('Age')],
    cells: (o, now) => [o.metadata.name!, (o as V1Secret).type ?? 'Opaque', count((o as V1Secret).data), age(o, now)],
  },
  Namespace: {
    columns: [col('Name'), col('Status'), col('Age')],
    cells: (o, now) => [o.metadata.name!, (o as V1Namespace).status?.phase ?? 'Active', age(o, now)],
  },
  PodDisruptionBudget: {
    columns: [col('Name'), col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 0, 'integer'), col('Age')],
    cells: (o, now) => {
      const pdb = o as V1PodDisruptionBudget
      return [o.metadata.name!, intOrString(pdb.spec?.minAvailable), intOrString(pdb.spec?.maxUnavailable), pdb.status?.disruptionsAllowed ?? 0, age(o, now)]
    },
  },
  ControllerRevision: {
    columns: [col('Name'), col('Controller'), col('Revision', 0, 'integer'), col('Age')],
    cells: (o, now) => {
      const revision = o as unknown as V1ControllerRevision & KObject
      const owner = o.metadata.ownerReferences?.find((ref) => ref.controller)
      const group = owner?.apiVersion.includes('/') ? `.${owner.apiVersion.split('/')[0]}` : ''
      return [o.metadata.name!, owner ? `${owner.kind.toLowerCase()}${group}/${owner.name}` : '<none>', revision.revision, age(o, now)]
    },
  },
  StorageClass: {
    columns: [col('Name'), col('Provisioner'), col('ReclaimPolicy'), col('VolumeBindingMode'), col('AllowVolumeExpansion', 0, 'boolean'), col('Age')],
    cells: (o, now) => {
      const sc = o as unknown as V1StorageClass & KObject
      return [`${o.metadata.name}${isDefaultStorageClass(o.metadata) ? ' (default)' : ''}`, sc.provisioner, sc.reclaimPolicy ?? 'Delete',
        sc.volumeBindingMode ?? 'Immediate', sc.allowVolumeExpansion ?? false, age(o, now)]
    },
  },
  Event: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Subobject', 1), col('Source', 1), col('Message'), col('First Seen', 1), col('Count', 1, 'integer'), col('Name', 1)],
    cells: (o, now) => {
      const e = o as unknown as CoreV1Event & KObject
      const last = String(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '')
      const first = String(e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '')
      const since = (t: string): string => (t ? humanDuration(now - Date.parse(t)) : '<unknown>')
      return [since(last), e.type ?? '', e.reason ?? '', `${(e.involvedObject.kind ?? '').toLowerCase()}/${e.involvedObject.name ?? ''}`,
        e.involvedObject.fieldPath ?? '', e.source?.component ?? e.reportingComponent ?? '', e.message ?? '', since(first), e.count ?? 1, o.metadata.name!]
    },
  },
}

const GENERIC: Printer = {columns: [col('Name'), col('Age')], cells: (o, now) => [o.metadata.name!, age(o, now)]}

export type IncludeObject = 'None' | 'Object' | 'PartialObjectMetadata'

function rowObject(o: KObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined
  if (include === 'Object') return o
  return {kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata}
}

/** A meta.k8s.io/v1 Table, the server-side printing kubectl asks for with `as=Table`. */
export function toTable(r: ResourceType, objects: KObject[], resourceVersion: string, include: IncludeObject): object {
  const printer = PRINTERS[r.kind] ?? GENERIC
  const now = Date.now()
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {resourceVersion},
    columnDefinitions: printer.columns,
    rows: objects.map((o) => ({cells: printer.cells(o, now), object: rowObject(o, include)})),
  }
}

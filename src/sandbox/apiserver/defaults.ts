import type {
  V1Container, V1Namespace, V1PersistentVolume, V1PersistentVolumeClaim, V1PodSpec, V1Probe, V1Secret, V1Service, V1StatefulSet,
  V1StorageClass,
} from '@kubernetes/client-node'

import type {KObject} from './object.js'
import type {ResourceType} from './resources.js'

/**
 * The defaulting the real API server applies on every write (pkg/apis/*\/v1/defaults.go), for the fields that
 * controllers, the kubelet and kubectl read. Idempotent, so it runs on updates too.
 */
export function applyDefaults(r: ResourceType, o: KObject): void {
  switch (r.kind) {
    case 'Pod': {
      o.spec = o.spec ?? {}
      defaultPod(o.spec as V1PodSpec)
      break
    }
    case 'StatefulSet': defaultStatefulSet(o as V1StatefulSet & KObject); break
    case 'Service': defaultService(o as V1Service & KObject); break
    case 'PersistentVolumeClaim': {
      const spec = ((o as V1PersistentVolumeClaim).spec ??= {})
      spec.volumeMode ??= 'Filesystem'
      break
    }
    case 'PersistentVolume': {
      const spec = ((o as V1PersistentVolume).spec ??= {})
      spec.persistentVolumeReclaimPolicy ??= 'Retain'
      spec.volumeMode ??= 'Filesystem'
      break
    }
    case 'Secret': (o as V1Secret).type ??= 'Opaque'; break
    case 'StorageClass': {
      const sc = o as V1StorageClass & KObject
      sc.reclaimPolicy ??= 'Delete'
      sc.volumeBindingMode ??= 'Immediate'
      break
    }
    case 'Namespace': {
      const ns = o as V1Namespace
      ns.metadata!.labels = {...ns.metadata!.labels, 'kubernetes.io/metadata.name': ns.metadata!.name!}
      ns.spec ??= {}
      ns.spec.finalizers ??= ['kubernetes']
      break
    }
    case 'RoleBinding': case 'ClusterRoleBinding':
      for (const subject of (o.subjects ?? []) as Array<{kind?: string; apiGroup?: string}>) {
        if (!subject.apiGroup && (subject.kind === 'User' || subject.kind === 'Group')) subject.apiGroup = 'rbac.authorization.k8s.io'
      }
      break
  }
}

/**
 * SetDefaults_Pod on top of SetDefaults_PodSpec: fields defaulted only on pods, so that pod templates (and with them
 * the StatefulSet revision hashes) stay as a real API server stores them.
 */
function defaultPod(spec: V1PodSpec): void {
  defaultPodSpec(spec)
  spec.enableServiceLinks ??= true
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    const limits = c.resources?.limits
    if (limits) c.resources!.requests = {...limits, ...c.resources!.requests}
  }
}

function defaultPodSpec(spec: V1PodSpec): void {
  spec.restartPolicy ??= 'Always'
  spec.terminationGracePeriodSeconds ??= 30
  spec.dnsPolicy ??= 'ClusterFirst'
  spec.schedulerName ??= 'default-scheduler'
  spec.securityContext ??= {}
  spec.containers = (spec.containers ?? []).map(defaultContainer)
  if (spec.initContainers) spec.initContainers = spec.initContainers.map(defaultContainer)
  for (const v of spec.volumes ?? []) {
    if (v.configMap) v.configMap.defaultMode ??= 420
    if (v.secret) v.secret.defaultMode ??= 420
  }
}

function defaultContainer(c: V1Container): V1Container {
  const latest = !c.image?.includes(':') || c.image.endsWith(':latest')
  c.imagePullPolicy ??= latest ? 'Always' : 'IfNotPresent'
  c.terminationMessagePath ??= '/dev/termination-log'
  c.terminationMessagePolicy ??= 'File'
  c.resources ??= {}
  for (const p of c.ports ?? []) p.protocol ??= 'TCP'
  for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) if (probe) defaultProbe(probe)
  for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1'
  return c
}

function defaultProbe(probe: V1Probe): void {
  probe.timeoutSeconds ??= 1
  probe.periodSeconds ??= 10
  probe.successThreshold ??= 1
  probe.failureThreshold ??= 3
}

function defaultStatefulSet(sts: V1StatefulSet & KObject): void {
  const spec = (sts.spec ??= {} as NonNullable<V1StatefulSet['spec']>)
  spec.replicas ??= 1
  spec.podManagementPolicy ??= 'OrderedReady'
  // As SetDefaults_StatefulSet: rollingUpdate is filled in only when the type was left empty, or when it is given.
  spec.updateStrategy ??= {}
  if (!spec.updateStrategy.type) {
    spec.updateStrategy.type = 'RollingUpdate'
    spec.updateStrategy.rollingUpdate ??= {}
  }
  if (spec.updateStrategy.type === 'RollingUpdate' && spec.updateStrategy.rollingUpdate) spec.updateStrategy.rollingUpdate.partition ??= 0
  spec.revisionHistoryLimit ??= 10
  spec.persistentVolumeClaimRetentionPolicy ??= {whenDeleted: 'Retain', whenScaled: 'Retain'}
  if (spec.template) defaultPodSpec((spec.template.spec ??= {containers: []}))
  for (const t of spec.volumeClaimTemplates ?? []) {
    t.apiVersion ??= 'v1'
    t.kind ??= 'PersistentVolumeClaim'
    t.spec = {...t.spec, volumeMode: t.spec?.volumeMode ?? 'Filesystem'}
    t.status ??= {phase: 'Pending'}
  }
}

let nextClusterIP = 1

function defaultService(svc: V1Service & KObject): void {
  const spec = (svc.spec ??= {})
  spec.type ??= 'ClusterIP'
  spec.sessionAffinity ??= 'None'
  if (spec.clusterIP === undefined || spec.clusterIP === '') {
    // Service IPs are never routed here; they only need to look like the default 10.96.0.0/12 range.
    spec.clusterIP = `10.96.${Math.floor(nextClusterIP / 250)}.${(nextClusterIP % 250) + 1}`
    nextClusterIP++
  }
  spec.clusterIPs ??= [spec.clusterIP]
  spec.ipFamilies ??= ['IPv4']
  spec.ipFamilyPolicy ??= 'SingleStack'
  spec.internalTrafficPolicy ??= 'Cluster'
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP'
    p.targetPort ??= p.port
  }
}

/** What PrepareForCreate sets in status for kinds whose status starts non-empty. */
export function initialStatus(r: ResourceType, o: KObject): unknown {
  switch (r.kind) {
    case 'Pod': return {phase: 'Pending', qosClass: 'BestEffort'}
    case 'PersistentVolumeClaim': return {phase: 'Pending'}
    case 'PersistentVolume': return {phase: 'Pending'}
    case 'Namespace': return {phase: 'Active'}
    case 'StatefulSet': return {replicas: 0, availableReplicas: 0}
    case 'PodDisruptionBudget': return {disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0}
    case 'Service': return {loadBalancer: {}}
    default: return o.status
  }
}

import type {
  V1ConfigMap, V1PodDisruptionBudget, V1Secret, V1Service, V1StatefulSet, KubernetesObject,
} from '@kubernetes/client-node'

import {ADMIN_SECRET_ANNOTATION, authConf, PASSWORD_SECRET_ANNOTATION, type ClusterAuth} from './auth.js'
import {clusterLabels, COMPONENT} from './labels.js'
import {clusterSecret} from './secret.js'

export const REDIS_PORT = 6379
export const BUS_PORT = REDIS_PORT + 10000
const CONF_DIR = '/etc/redis'
const AUTH_DIR = '/etc/redis-auth'
export const TLS_DIR = '/etc/redis-tls'
const DATA_DIR = '/data'
/** On the StatefulSet and its pods: the Secret (cert-manager's layout) whose certificates the pods serve. */
export const TLS_SECRET_ANNOTATION = 'redisctl.io/tls-secret'

export interface ClusterSpec {
  name: string
  namespace: string
  masters: number
  replicasPerMaster: number
  image: string
  storage: string
  storageClass?: string
  /** Container memory limit, e.g. 512Mi; maxmemory is set below it so that Redis evicts nothing and refuses writes instead of being OOM-killed. */
  memory?: string
  /** Redis requires a password: it comes from the auth Secret (authConfigSecret), never from a manifest or argv. */
  withAuth?: boolean
  /** The pods serve TLS only, with the certificates of this Secret (tls.crt, tls.key, ca.crt) mounted at TLS_DIR. */
  tlsSecret?: string
  /** ACL users instead of one password: the Secret of redisctl's own user, remembered on the pods (ADMIN_SECRET_ANNOTATION). */
  adminSecret?: string
  /** One password, from this Secret (--password-secret): remembered on the pods (PASSWORD_SECRET_ANNOTATION). */
  passwordSecret?: string
}

export const podCount = (spec: Pick<ClusterSpec, 'masters' | 'replicasPerMaster'>): number =>
  spec.masters * (1 + spec.replicasPerMaster)

export const headlessServiceName = (name: string): string => `${name}-headless`
export const configMapName = (name: string): string => `${name}-config`
/**
 * The pod template carries redis.conf as the ConfigMap holds it: a config change then makes a new template revision
 * (so a rollout restarts the pods that run the old one), and the ControllerRevision keeps the config for --undo.
 */
export const CONFIG_ANNOTATION = 'redisctl.io/redis-conf'
export const authConfigSecretName = (name: string): string => `${name}-auth-conf`

const NODE_TIMEOUT_MS = 5000

/** A pod's own DNS name under the headless Service (the StatefulSet's serviceName), as pods announce it. */
export const podDnsName = (pod: string, subdomain: string, namespace: string): string => `${pod}.${subdomain}.${namespace}.svc`

/**
 * The names a node certificate of the cluster covers: every pod under the headless Service (a wildcard, so that
 * scaling needs no new certificate), short and fully qualified, and the client Service's names.
 */
export function clusterDnsNames(name: string, namespace: string): string[] {
  const pods = `*.${headlessServiceName(name)}.${namespace}.svc`
  const service = `${name}.${namespace}.svc`
  return [pods, `${pods}.cluster.local`, name, `${name}.${namespace}`, service, `${service}.cluster.local`]
}

export function redisConf(spec: ClusterSpec): string {
  return [
    ...(spec.tlsSecret ? tlsConf() : [`port ${REDIS_PORT}`]),
    'cluster-enabled yes',
    `cluster-config-file ${DATA_DIR}/nodes.conf`,
    `cluster-node-timeout ${NODE_TIMEOUT_MS}`,
    'appendonly yes',
    // A full sync then starts as soon as every replica of the master asks, not repl-diskless-sync-delay (5 s) later.
    ...(spec.replicasPerMaster > 0 ? [`repl-diskless-sync-max-replicas ${spec.replicasPerMaster}`] : []),
    `dir ${DATA_DIR}`,
    'protected-mode no',
    ...(spec.memory ? [`maxmemory ${maxMemoryBytes(spec.memory)}`, 'maxmemory-policy noeviction'] : []),
    ...(spec.withAuth ? [`include ${AUTH_DIR}/auth.conf`] : []),
  ].join('\n') + '\n'
}

/** The cluster-node-timeout a redis.conf sets, in ms; Redis's default when it sets none. */
export function configuredNodeTimeoutMs(conf: string): number {
  const value = /^\s*cluster-node-timeout\s+(\d+)\s*$/mi.exec(conf)?.[1]
  return value === undefined ? 15_000 : Number(value)
}

/**
 * TLS only, on the usual port. tls-auth-clients stays at its default (yes): clients, replicas and bus peers all show
 * a certificate of the cluster's CA. Pods announce their DNS names so that clients following a redirect can verify
 * the node; Redis itself connects the bus and replication to the announced IP (the hostname is only handed to clients).
 */
function tlsConf(): string[] {
  return [
    'port 0',
    `tls-port ${REDIS_PORT}`,
    `tls-cert-file ${TLS_DIR}/tls.crt`,
    `tls-key-file ${TLS_DIR}/tls.key`,
    `tls-ca-cert-file ${TLS_DIR}/ca.crt`,
    'tls-cluster yes',
    'tls-replication yes',
    'cluster-preferred-endpoint-type hostname',
  ]
}

/** 80% of a Kubernetes memory quantity, in bytes, leaving room for Redis's own overhead and forks. */
export function maxMemoryBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity)
  if (!match) throw new Error(`not a memory quantity: ${quantity}`)
  const units: Record<string, number> = {Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12}
  return Math.floor(Number(match[1]) * (match[2] ? units[match[2]] : 1) * 0.8)
}

/** The auth config Redis includes (manifests/auth.ts): who may connect, and how replicas authenticate. Kept in a Secret. */
export function authConfigSecret(spec: Pick<ClusterSpec, 'name' | 'namespace'>, auth: ClusterAuth): V1Secret {
  const conf = authConf(auth)
  return clusterSecret(spec.name, spec.namespace, authConfigSecretName(spec.name), 'Opaque', {'auth.conf': conf})
}


export function configMap(spec: ClusterSpec): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {name: configMapName(spec.name), namespace: spec.namespace, labels: clusterLabels(spec.name)},
    data: {'redis.conf': redisConf(spec)},
  }
}

export function headlessService(spec: ClusterSpec): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name: headlessServiceName(spec.name), namespace: spec.namespace, labels: clusterLabels(spec.name)},
    spec: {
      clusterIP: 'None',
      // Nodes must find each other before they are Ready: readiness needs the cluster formed.
      publishNotReadyAddresses: true,
      selector: clusterLabels(spec.name),
      ports: [{name: 'redis', port: REDIS_PORT, targetPort: 'redis'}, {name: 'bus', port: BUS_PORT, targetPort: 'bus'}],
    },
  }
}

export function clientService(spec: ClusterSpec): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name: spec.name, namespace: spec.namespace, labels: clusterLabels(spec.name)},
    spec: {selector: clusterLabels(spec.name), ports: [{name: 'redis', port: REDIS_PORT, targetPort: 'redis'}]},
  }
}

export function podDisruptionBudget(spec: ClusterSpec): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {name: spec.name, namespace: spec.namespace, labels: clusterLabels(spec.name)},
    spec: {maxUnavailable: 1, selector: {matchLabels: clusterLabels(spec.name)}},
  }
}

export function statefulSet(spec: ClusterSpec): V1StatefulSet {
  const labels = clusterLabels(spec.name)
  const tlsAnnotation = spec.tlsSecret ? {[TLS_SECRET_ANNOTATION]: spec.tlsSecret} : undefined
  const headless = headlessServiceName(spec.name)
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {name: spec.name, namespace: spec.namespace, labels, ...(tlsAnnotation ? {annotations: tlsAnnotation} : {})},
    spec: {
      serviceName: headless,
      replicas: podCount(spec),
      // Redis Cluster nodes do not depend on each other to start: starting all at once is faster and safe.
      podManagementPolicy: 'Parallel',
      // The controller never restarts a pod: redisctl rollout does, replicas first and masters only after a planned
      // failover. A merge patch over a set that had RollingUpdate must clear rollingUpdate in the same write.
      updateStrategy: {type: 'OnDelete', rollingUpdate: null as unknown as undefined},
      selector: {matchLabels: labels},
      template: {
        metadata: {
          labels: {...labels, [COMPONENT]: 'node'},
          annotations: {
            [CONFIG_ANNOTATION]: redisConf(spec), ...tlsAnnotation,
            ...(spec.adminSecret ? {[ADMIN_SECRET_ANNOTATION]: spec.adminSecret} : {}),
            ...(spec.passwordSecret ? {[PASSWORD_SECRET_ANNOTATION]: spec.passwordSecret} : {}),
          },
        },
        spec: {
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [{
                weight: 100,
                podAffinityTerm: {topologyKey: 'kubernetes.io/hostname', labelSelector: {matchLabels: labels}},
              }],
            },
          },
          containers: [{
            name: 'redis',
            image: spec.image,
            command: ['redis-server', `${CONF_DIR}/redis.conf`, '--cluster-announce-ip', '$(POD_IP)',
              ...(spec.tlsSecret ? ['--cluster-announce-hostname', podDnsName('$(POD_NAME)', headless, spec.namespace)] : [])],
            env: [
              {name: 'POD_IP', valueFrom: {fieldRef: {fieldPath: 'status.podIP'}}},
              ...(spec.tlsSecret ? [{name: 'POD_NAME', valueFrom: {fieldRef: {fieldPath: 'metadata.name'}}}] : []),
            ],
            ports: [{name: 'redis', containerPort: REDIS_PORT}, {name: 'bus', containerPort: BUS_PORT}],
            readinessProbe: {tcpSocket: {port: 'redis'}, periodSeconds: 2, timeoutSeconds: 1},
            livenessProbe: {tcpSocket: {port: 'redis'}, initialDelaySeconds: 10, periodSeconds: 10},
            ...(spec.memory ? {resources: {requests: {memory: spec.memory}, limits: {memory: spec.memory}}} : {}),
            volumeMounts: [
              {name: 'data', mountPath: DATA_DIR},
              {name: 'config', mountPath: CONF_DIR},
              ...(spec.withAuth ? [{name: 'auth', mountPath: AUTH_DIR}] : []),
              ...(spec.tlsSecret ? [{name: 'tls', mountPath: TLS_DIR, readOnly: true}] : []),
            ],
          }],
          volumes: [
            {name: 'config', configMap: {name: configMapName(spec.name)}},
            ...(spec.withAuth ? [{name: 'auth', secret: {secretName: authConfigSecretName(spec.name)}}] : []),
            ...(spec.tlsSecret ? [{name: 'tls', secret: {secretName: spec.tlsSecret}}] : []),
          ],
        },
      },
      volumeClaimTemplates: [{
        metadata: {name: 'data', labels},
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: {requests: {storage: spec.storage}},
          ...(spec.storageClass ? {storageClassName: spec.storageClass} : {}),
        },
      }],
    },
  }
}

/** Everything `cluster create` applies, in dependency order. The auth Secret comes separately: it carries the password. */
export function clusterManifests(spec: ClusterSpec): KubernetesObject[] {
  return [configMap(spec), headlessService(spec), clientService(spec), podDisruptionBudget(spec), statefulSet(spec)]
}

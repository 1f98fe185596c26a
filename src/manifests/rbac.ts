import type {
  KubernetesObject, RbacV1Subject, V1ClusterRole, V1ClusterRoleBinding, V1Role, V1RoleBinding, V1ServiceAccount,
} from '@kubernetes/client-node'

import {namespaceRules, nodeZonesRule} from '../kube/permissions.js'
import {APP_NAME} from './labels.js'

const RBAC = 'rbac.authorization.k8s.io/v1'

export interface RbacSpec {
  /** Name of the Role and its RoleBinding; the ClusterRole is NAME-nodes. */
  name: string
  namespace: string
  /** The ServiceAccount to create and bind; without one only the roles are made. */
  serviceAccount?: string
  /** Include the ClusterRole that lets redisctl read Nodes, for zones. */
  nodes: boolean
}

export interface RbacObject {
  object: KubernetesObject
  /** A line to print above it in YAML, saying why it is there. */
  comment: string
}

/** The objects that let an identity run every redisctl command in one namespace: what `redisctl rbac` prints. */
export function rbacManifests(spec: RbacSpec): RbacObject[] {
  const labels = {[APP_NAME]: 'redisctl'}
  const meta = (name: string, namespaced = true): {name: string; namespace?: string; labels: Record<string, string>} =>
    ({name, ...(namespaced ? {namespace: spec.namespace} : {}), labels})
  const subject: RbacV1Subject | undefined = spec.serviceAccount ? {kind: 'ServiceAccount', name: spec.serviceAccount, namespace: spec.namespace} : undefined
  const nodesRole = `${spec.name}-nodes`
  const objects: RbacObject[] = []
  if (spec.serviceAccount) {
    const account: V1ServiceAccount = {apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(spec.serviceAccount)}
    objects.push({object: account, comment: 'The identity a CI job runs redisctl as.'})
  }
  const role: V1Role = {apiVersion: RBAC, kind: 'Role', metadata: meta(spec.name), rules: namespaceRules()}
  objects.push({object: role, comment: `Everything every redisctl command does in namespace ${spec.namespace}.`})
  if (subject) {
    const binding: V1RoleBinding = {apiVersion: RBAC, kind: 'RoleBinding', metadata: meta(spec.name), subjects: [subject],
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: spec.name}}
    objects.push({object: binding, comment: `Gives it to ServiceAccount ${spec.serviceAccount}.`})
  }
  if (spec.nodes) {
    const clusterRole: V1ClusterRole = {apiVersion: RBAC, kind: 'ClusterRole', metadata: meta(nodesRole, false), rules: [nodeZonesRule()]}
    objects.push({object: clusterRole, comment: 'Optional, cluster-wide: reading Nodes tells redisctl their zones, to spread replicas over zones (without it zones are unknown).'})
    if (subject) {
      const clusterBinding: V1ClusterRoleBinding = {apiVersion: RBAC, kind: 'ClusterRoleBinding', metadata: meta(`${nodesRole}-${spec.namespace}-${spec.serviceAccount}`, false),
        subjects: [subject], roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: nodesRole}}
      objects.push({object: clusterBinding, comment: `Optional: gives it to ServiceAccount ${spec.serviceAccount}.`})
    }
  }
  return objects
}

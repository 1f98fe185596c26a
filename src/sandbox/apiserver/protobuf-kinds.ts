import type {Schema} from './protobuf.js'

/**
 * The kinds kubectl's `create` generators send as protobuf, by their fields in k8s.io/api's generated.proto: the
 * fields those generators set (checked against the bytes kubectl 1.32 sends), and a few more of the same kinds
 * (labels, annotations, immutable, imagePullSecrets) by their types.go protobuf tags. A field not listed here is
 * refused, never dropped.
 */

const OBJECT_META: Schema = {1: ['name', 'string'], 2: ['generateName', 'string'], 3: ['namespace', 'string'], 11: ['labels', 'string-map'], 12: ['annotations', 'string-map']}
const POLICY_RULE: Schema = {1: ['verbs', 'strings'], 2: ['apiGroups', 'strings'], 3: ['resources', 'strings'], 4: ['resourceNames', 'strings'], 5: ['nonResourceURLs', 'strings']}
const SUBJECT: Schema = {1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string']}
const ROLE_REF: Schema = {1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string']}
const ROLE: Schema = {1: ['metadata', OBJECT_META], 2: ['rules', [POLICY_RULE]]}
const BINDING: Schema = {1: ['metadata', OBJECT_META], 2: ['subjects', [SUBJECT]], 3: ['roleRef', ROLE_REF]}

export const PROTOBUF_KINDS: Record<string, Schema> = {
  Secret: {1: ['metadata', OBJECT_META], 2: ['data', 'bytes-map'], 3: ['type', 'string'], 4: ['stringData', 'string-map'], 5: ['immutable', 'optional-bool']},
  ConfigMap: {1: ['metadata', OBJECT_META], 2: ['data', 'string-map'], 3: ['binaryData', 'bytes-map'], 4: ['immutable', 'optional-bool']},
  Namespace: {1: ['metadata', OBJECT_META], 2: ['spec', {1: ['finalizers', 'strings']}], 3: ['status', {1: ['phase', 'string']}]},
  ServiceAccount: {1: ['metadata', OBJECT_META], 3: ['imagePullSecrets', [{1: ['name', 'string']}]], 4: ['automountServiceAccountToken', 'optional-bool']},
  Role: ROLE,
  ClusterRole: ROLE,
  RoleBinding: BINDING,
  ClusterRoleBinding: BINDING,
}

import type {V1Secret} from '@kubernetes/client-node'

import {clusterLabels} from './labels.js'

/** A Secret of the cluster (its labels, so teardown finds it), its values given as text and stored base64. */
export function clusterSecret(cluster: string, namespace: string, secretName: string, type: 'Opaque' | 'kubernetes.io/tls', data: Record<string, string>): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {name: secretName, namespace, labels: clusterLabels(cluster)},
    type,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  }
}

/** One key of a Secret as text: from stringData (a manifest not yet applied) or data (base64, as the API returns it). */
export const secretValue = (secret: V1Secret, key: string): string | undefined =>
  secret.stringData?.[key] ?? (secret.data?.[key] !== undefined ? Buffer.from(secret.data[key], 'base64').toString('utf8') : undefined)

import {PatchStrategy, setHeaderOptions} from '@kubernetes/client-node'

import type {Kube} from './context.js'
import {httpStatus} from './api-errors.js'

/**
 * The redis.conf a ConfigMap holds, for comparing with what the nodes run. Not required by any command: when it
 * cannot be read (not allowed, gone, pods configured another way) the comparison is skipped, said once as a warning.
 */
export async function readRedisConf(kube: Kube, name: string): Promise<string | undefined> {
  try {
    const configMap = await kube.core.readNamespacedConfigMap({name, namespace: kube.namespace})
    return configMap.data?.['redis.conf']
  } catch (error) {
    const code = httpStatus(error)
    if (code === 404) return undefined
    kube.warnings.add('redis-conf-unknown', `The ConfigMap ${name} cannot be read (${code === 403 ? 'get configmaps is not allowed' : code ? `HTTP ${code}` : String(error)}), ` +
      'so the nodes\' settings are not compared with its redis.conf.')
    return undefined
  }
}

/** Replaces the redis.conf a ConfigMap holds (a merge patch of that one key: the others are kept). */
export async function writeRedisConf(kube: Kube, name: string, conf: string): Promise<void> {
  await kube.call(`writing redis.conf into ConfigMap ${name}`, () => kube.core.patchNamespacedConfigMap({name, namespace: kube.namespace, body: {data: {'redis.conf': conf}}},
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch)))
}

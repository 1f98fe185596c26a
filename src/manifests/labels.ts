/** The labels redisctl puts on everything it creates, so that it finds (and tears down) exactly that. */
export const MANAGED_BY = 'app.kubernetes.io/managed-by'
export const INSTANCE = 'app.kubernetes.io/instance'
export const APP_NAME = 'app.kubernetes.io/name'
export const COMPONENT = 'app.kubernetes.io/component'

export function clusterLabels(name: string): Record<string, string> {
  return {[APP_NAME]: 'redis-cluster', [INSTANCE]: name, [MANAGED_BY]: 'redisctl'}
}

/** Selects the pods (and every other object) redisctl created for the cluster `name`. */
export const clusterSelector = (name: string): string => `${INSTANCE}=${name},${MANAGED_BY}=redisctl`

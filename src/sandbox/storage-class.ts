/** What marks a StorageClass as the cluster's default (storageutil.IsDefaultAnnotation), for the API server and the provisioner. */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class'
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class'

export function isDefaultStorageClass(meta: {annotations?: Record<string, string>} | undefined): boolean {
  const annotations = meta?.annotations ?? {}
  return annotations[DEFAULT_CLASS_ANNOTATION] === 'true' || annotations[BETA_DEFAULT_CLASS_ANNOTATION] === 'true'
}

interface ClassLike {
  metadata?: {name?: string; creationTimestamp?: Date | string; annotations?: Record<string, string>}
}

/** The default class a claim without one gets: the newest default (as since Kubernetes 1.26), then by name. */
export function newestDefaultClass<T extends ClassLike>(classes: readonly T[]): T | undefined {
  const time = (c: T) => new Date(c.metadata?.creationTimestamp ?? 0).getTime()
  return classes
    .filter((c) => isDefaultStorageClass(c.metadata))
    .sort((a, b) => time(b) - time(a) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0]
}

/** What marks a StorageClass as the cluster's default (storageutil.IsDefaultAnnotation), for the API server and the provisioner. */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class'
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class'

export function isDefaultStorageClass(meta: {annotations?: Record<string, string>} | undefined): boolean {
  const annotations = meta?.annotations ?? {}
  return annotations[DEFAULT_CLASS_ANNOTATION] === 'true' || annotations[BETA_DEFAULT_CLASS_ANNOTATION] === 'true'
}

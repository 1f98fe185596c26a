import type {V1StatefulSet} from '@kubernetes/client-node'

import {ADMIN_SECRET_ANNOTATION, PASSWORD_SECRET_ANNOTATION} from './auth.js'
import {maxMemoryBytes, TLS_SECRET_ANNOTATION, type ClusterSpec} from './cluster.js'

/** The settings of `cluster create` that a running StatefulSet shows, by the flag that sets each. */
export interface RunningSettings {
  image?: string
  memory?: string
  storage?: string
  storageClass?: string
  withAuth: boolean
  /** The TLS Secret the pods serve (the StatefulSet's annotation); none for a plaintext cluster. */
  tlsSecret?: string
  /** ACL users (cluster create --acl), as the pod template's annotation says. */
  acl: boolean
  /** The --password-secret the pods remember (their template's annotation); none before redisctl remembered it. */
  passwordSecret?: string
}

/** A setting asked for that the running cluster does not have. */
export interface SpecDifference {
  flag: '--image' | '--memory' | '--storage' | '--storage-class' | '--password-secret' | '--tls' | '--acl'
  asked: string
  running: string
  /** Changing it means new volumes (their size and class are fixed when they are made), not only new pods. */
  needsNewVolumes: boolean
}

/** The spec fields a flag sets, the way the command line gives them. */
export type SpecFlag = 'image' | 'memory' | 'storage' | 'storageClass' | 'tlsSecret' | 'passwordSecret'

export function runningSettings(sts: V1StatefulSet): RunningSettings {
  const pod = sts.spec?.template.spec
  const container = pod?.containers.find((c) => c.name === 'redis') ?? pod?.containers[0]
  const data = sts.spec?.volumeClaimTemplates?.find((t) => t.metadata?.name === 'data')
  return {
    image: container?.image,
    memory: container?.resources?.limits?.memory,
    storage: data?.spec?.resources?.requests?.storage,
    storageClass: data?.spec?.storageClassName,
    withAuth: (pod?.volumes ?? []).some((v) => v.name === 'auth'),
    tlsSecret: sts.metadata?.annotations?.[TLS_SECRET_ANNOTATION],
    acl: Boolean(sts.spec?.template.metadata?.annotations?.[ADMIN_SECRET_ANNOTATION]),
    passwordSecret: sts.spec?.template.metadata?.annotations?.[PASSWORD_SECRET_ANNOTATION],
  }
}

/** Quantities compare by value: the API server may write 1024Mi back as 1Gi. */
const sameQuantity = (a: string | undefined, b: string | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && /^\d/.test(a) && /^\d/.test(b) && maxMemoryBytes(a) === maxMemoryBytes(b))

/**
 * What a second `cluster create` over a running StatefulSet may do: the spec it would apply (a flag left out keeps
 * what the cluster runs with) and every flag given that asks for something else. Nothing is ever patched over
 * running pods: a difference is refused, not applied.
 */
export function reconcileSpec(wanted: ClusterSpec, given: ReadonlySet<SpecFlag>, running: RunningSettings): {spec: ClusterSpec; differences: SpecDifference[]} {
  const spec: ClusterSpec = {...wanted}
  const differences: SpecDifference[] = []
  const fields: Array<[SpecFlag, SpecDifference['flag'], boolean]> = [
    ['image', '--image', false], ['memory', '--memory', false], ['storage', '--storage', true], ['storageClass', '--storage-class', true],
    // A plaintext cluster rolled to TLS pod by pod would split: TLS nodes and plaintext ones cannot share the bus.
    ['tlsSecret', '--tls', false],
  ]
  for (const [field, flag, needsNewVolumes] of fields) {
    const now = running[field]
    if (!given.has(field)) Object.assign(spec, {[field]: now ?? wanted[field]})
    else if (!(field === 'image' || field === 'storageClass' || field === 'tlsSecret' ? wanted[field] === now : sameQuantity(wanted[field], now))) {
      differences.push({flag, asked: wanted[field] ?? 'none', running: now ?? 'none', needsNewVolumes})
    }
  }
  if (Boolean(wanted.adminSecret) !== running.acl) {
    differences.push({flag: '--acl', asked: wanted.adminSecret ? 'ACL users' : 'no ACL users', running: running.acl ? 'ACL users' : 'no ACL users', needsNewVolumes: false})
  } else if (Boolean(wanted.withAuth) !== running.withAuth) {
    differences.push({
      flag: '--password-secret', asked: wanted.withAuth ? 'a password' : 'no password', running: running.withAuth ? 'a password' : 'no password', needsNewVolumes: false,
    })
  } else if (!given.has('passwordSecret')) {
    spec.passwordSecret = running.passwordSecret
  } else if (running.passwordSecret && wanted.passwordSecret !== running.passwordSecret) {
    // Pods made before redisctl remembered the Secret name none: the password they accept is what counts there.
    differences.push({flag: '--password-secret', asked: wanted.passwordSecret ?? 'none', running: running.passwordSecret, needsNewVolumes: false})
  }
  return {spec, differences}
}

import {isAbsolute, join, relative, resolve} from 'node:path'

import type {V1PersistentVolume, V1PersistentVolumeClaim} from '@kubernetes/client-node'

/**
 * What the sandbox's hostPath provisioner and the PV controller's binder write, after the real flow: the
 * provisioner creates `pvc-<claim uid>` with a claimRef, the binder marks both sides Bound.
 */

export const PROVISIONER = 'redisctl.io/sandbox-hostpath'
export const DEFAULT_STORAGE_CLASS = 'standard'

export function volumeNameFor(claim: V1PersistentVolumeClaim): string {
  return `pvc-${claim.metadata?.uid}`
}

export function provisionedVolume(claim: V1PersistentVolumeClaim, volumeRoot: string): V1PersistentVolume {
  const name = volumeNameFor(claim)
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {name, annotations: {'pv.kubernetes.io/provisioned-by': PROVISIONER}},
    spec: {
      capacity: {storage: claim.spec?.resources?.requests?.storage ?? '1Gi'},
      accessModes: claim.spec?.accessModes?.length ? claim.spec.accessModes : ['ReadWriteOnce'],
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: claim.spec?.storageClassName || DEFAULT_STORAGE_CLASS,
      hostPath: {path: join(volumeRoot, name), type: 'DirectoryOrCreate'},
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata?.namespace,
        name: claim.metadata?.name,
        uid: claim.metadata?.uid,
        resourceVersion: claim.metadata?.resourceVersion,
      },
    },
  }
}

/** True when the volume was made for this very claim (same uid, not just the same name). */
export function volumeBelongsTo(volume: V1PersistentVolume, claim: V1PersistentVolumeClaim): boolean {
  const ref = volume.spec?.claimRef
  return ref?.uid === claim.metadata?.uid && ref?.namespace === claim.metadata?.namespace && ref?.name === claim.metadata?.name
}

/** The claim-side fields the PV controller sets when it binds: spec.volumeName and its annotations. */
export function claimBindingPatch(volume: V1PersistentVolume): object {
  return {
    metadata: {
      annotations: {
        'pv.kubernetes.io/bind-completed': 'yes',
        'pv.kubernetes.io/bound-by-controller': 'yes',
        'volume.kubernetes.io/storage-provisioner': PROVISIONER,
        'volume.beta.kubernetes.io/storage-provisioner': PROVISIONER,
      },
    },
    spec: {volumeName: volume.metadata?.name},
  }
}

export function claimBoundStatus(volume: V1PersistentVolume): object {
  return {status: {phase: 'Bound', accessModes: volume.spec?.accessModes, capacity: volume.spec?.capacity}}
}

/** The folder of a provisioned volume, only when it lies inside the provisioner's root (never delete elsewhere). */
export function ownedFolder(volume: V1PersistentVolume, volumeRoot: string): string | undefined {
  const path = volume.spec?.hostPath?.path
  if (!path || volume.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] !== PROVISIONER) return undefined
  const inside = relative(resolve(volumeRoot), resolve(path))
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? resolve(path) : undefined
}

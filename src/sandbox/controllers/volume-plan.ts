import {isAbsolute, join, relative, resolve} from 'node:path'

import type {V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass} from '@kubernetes/client-node'

import {DEFAULT_CLASS_ANNOTATION, newestDefaultClass} from '../storage-class.js'

/**
 * What the sandbox's hostPath provisioner and the PV controller's binder write, after the real flow: the
 * provisioner creates `pvc-<claim uid>` with a claimRef, the binder marks both sides Bound.
 */

export const PROVISIONER = 'redisctl.io/sandbox-hostpath'
export const DEFAULT_STORAGE_CLASS = 'standard'

export function volumeNameFor(claim: V1PersistentVolumeClaim): string {
  return `pvc-${claim.metadata?.uid}`
}

/** The class the provisioner installs, as kind's local-path provisioner brings `standard`: the cluster's default. */
export const defaultStorageClass: V1StorageClass = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: {name: DEFAULT_STORAGE_CLASS, annotations: {[DEFAULT_CLASS_ANNOTATION]: 'true'}},
  provisioner: PROVISIONER,
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'Immediate',
}

/** A Warning or Normal event the PV controller records on a claim it cannot provision. */
export interface ClaimEvent {
  type: 'Normal' | 'Warning'
  reason: string
  message: string
}

/** What the PV controller does for an unbound claim that names no volume (syncUnboundClaim, provisionClaimOperation). */
export type ClaimStep =
  | {kind: 'assignDefaultClass'; className: string}
  | {kind: 'provision'; storageClass: V1StorageClass}
  | {kind: 'wait'; event: ClaimEvent}

export function claimStep(claim: V1PersistentVolumeClaim, classes: readonly V1StorageClass[]): ClaimStep {
  const className = claim.spec?.storageClassName
  if (className === undefined || className === null) {
    // RetroactiveDefaultStorageClass: a class made default after the claim was created is given to it now.
    const chosen = newestDefaultClass(classes)
    if (chosen) return {kind: 'assignDefaultClass', className: chosen.metadata?.name ?? ''}
  }
  if (!className) return {kind: 'wait', event: {type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set'}}
  const storageClass = classes.find((sc) => sc.metadata?.name === className)
  if (!storageClass) return {kind: 'wait', event: {type: 'Warning', reason: 'ProvisioningFailed', message: `storageclass.storage.k8s.io "${className}" not found`}}
  if (storageClass.provisioner !== PROVISIONER) {
    return {
      kind: 'wait',
      event: {
        type: 'Normal',
        reason: 'ExternalProvisioning',
        message: `Waiting for a volume to be created either by the external provisioner '${storageClass.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      },
    }
  }
  return {kind: 'provision', storageClass}
}

/** True when the sandbox's provisioner will bind this claim by itself (so a pod waiting for it is not unschedulable). */
export function willProvision(claim: V1PersistentVolumeClaim, classes: readonly V1StorageClass[]): boolean {
  const step = claimStep(claim, classes)
  if (step.kind === 'assignDefaultClass') return willProvision({...claim, spec: {...claim.spec, storageClassName: step.className}}, classes)
  return step.kind === 'provision'
}

export function provisionedVolume(claim: V1PersistentVolumeClaim, storageClass: V1StorageClass, volumeRoot: string): V1PersistentVolume {
  const name = volumeNameFor(claim)
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {name, annotations: {'pv.kubernetes.io/provisioned-by': PROVISIONER}},
    spec: {
      capacity: {storage: claim.spec?.resources?.requests?.storage ?? '1Gi'},
      accessModes: claim.spec?.accessModes?.length ? claim.spec.accessModes : ['ReadWriteOnce'],
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
      storageClassName: storageClass.metadata?.name,
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

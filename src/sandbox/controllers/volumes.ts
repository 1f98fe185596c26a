import {mkdir, rm} from 'node:fs/promises'

import {CoreV1Api, type KubeConfig, StorageV1Api, type V1PersistentVolume, type V1PersistentVolumeClaim} from '@kubernetes/client-node'

import {apiCode, EventRecorder, mergePatch, objectKey, splitKey, tolerate} from './api.js'
import type {Informers} from './informers.js'
import {
  claimBindingPatch,
  claimBoundStatus,
  type ClaimEvent,
  claimStep,
  defaultStorageClass,
  ownedFolder,
  PROVISIONER,
  provisionedVolume,
  volumeBelongsTo,
  volumeNameFor,
} from './volume-plan.js'
import {WorkQueue} from './workqueue.js'

const CLAIM = 'claim:'
const VOLUME = 'volume:'

/**
 * The volume provisioner and binder the sandbox needs because nothing else provisions PVs. It installs the default
 * StorageClass `standard`; a Pending claim of a class whose provisioner is this one gets a hostPath PV under
 * volumeRoot, both are bound as the PV controller binds them, and a PV whose claim is gone is reclaimed (Delete:
 * folder and PV removed; Retain: marked Released). A claim it cannot provision stays Pending with the PV
 * controller's event (a class that does not exist, another provisioner's class, no class at all).
 */
export class VolumeController {
  private readonly core: CoreV1Api
  private readonly storage: StorageV1Api
  private readonly events: EventRecorder
  private readonly queue: WorkQueue
  /** Events already recorded, by claim uid, reason and message: the PV controller repeats them, once is enough here. */
  private readonly recorded = new Set<string>()

  constructor(
    kc: KubeConfig,
    private readonly informers: Informers,
    private readonly volumeRoot: string,
    private readonly log: (line: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api)
    this.storage = kc.makeApiClient(StorageV1Api)
    this.events = new EventRecorder(this.core, 'persistentvolume-controller', log)
    this.queue = new WorkQueue((key) => (key.startsWith(CLAIM) ? this.syncClaim(key.slice(CLAIM.length)) : this.syncVolume(key.slice(VOLUME.length))), {
      concurrency: 4,
      onError: (key, error) => log(`volumes ${key}: ${error instanceof Error ? error.message : String(error)}`),
    })
    informers.claims.on('add', (claim) => this.queue.add(CLAIM + objectKey(claim.metadata)))
    informers.claims.on('update', (claim) => this.queue.add(CLAIM + objectKey(claim.metadata)))
    informers.claims.on('delete', (claim) => this.onClaimDeleted(claim))
    informers.volumes.on('change', (volume) => {
      this.queue.add(VOLUME + volume.metadata?.name)
      const ref = volume.spec?.claimRef
      if (ref?.name) this.queue.add(`${CLAIM}${ref.namespace}/${ref.name}`)
    })
    informers.storageClasses.on('change', () => {
      for (const claim of informers.claims.list()) if (claim.status?.phase !== 'Bound') this.queue.add(CLAIM + objectKey(claim.metadata))
    })
  }

  /** Creates the default StorageClass unless it exists (a user may have changed it). */
  async installStorageClass(): Promise<void> {
    await tolerate([409], () => this.storage.createStorageClass({body: defaultStorageClass}))
  }

  async stop(): Promise<void> {
    await this.queue.stop()
    await this.events.flush()
  }

  private onClaimDeleted(claim: V1PersistentVolumeClaim): void {
    for (const key of this.recorded) if (key.startsWith(`${claim.metadata?.uid}|`)) this.recorded.delete(key)
    for (const volume of this.informers.volumes.list()) {
      if (volume.metadata?.name === claim.spec?.volumeName || volumeBelongsTo(volume, claim)) this.queue.add(VOLUME + volume.metadata?.name)
    }
  }

  private async syncClaim(key: string): Promise<void> {
    const {namespace, name} = splitKey(key)
    const claim = this.informers.claims.get(name, namespace)
    if (!claim || claim.metadata?.deletionTimestamp) return
    if (claim.status?.phase === 'Bound' && claim.spec?.volumeName) return

    const volume = claim.spec?.volumeName ? this.informers.volumes.get(claim.spec.volumeName) : await this.volumeFor(claim)
    if (!volume) return
    const volumeName = volume.metadata?.name ?? ''
    if (volume.status?.phase !== 'Bound') {
      await this.core.patchPersistentVolumeStatus({name: volumeName, body: {status: {phase: 'Bound'}}}, mergePatch)
    }
    if (claim.spec?.volumeName !== volumeName) {
      await this.core.patchNamespacedPersistentVolumeClaim({namespace, name, body: claimBindingPatch(volume)}, mergePatch)
    }
    await this.core.patchNamespacedPersistentVolumeClaimStatus({namespace, name, body: claimBoundStatus(volume)}, mergePatch)
  }

  /**
   * The volume provisioned for this claim, provisioning it now when there is none yet and its class is this
   * provisioner's; undefined while the claim waits (its event says why) or was just given the default class.
   */
  private async volumeFor(claim: V1PersistentVolumeClaim): Promise<V1PersistentVolume | undefined> {
    const existing = this.informers.volumes.list().find((volume) => volumeBelongsTo(volume, claim))
    if (existing) return existing
    const step = claimStep(claim, this.informers.storageClasses.list())
    const {namespace = '', name = ''} = claim.metadata ?? {}
    switch (step.kind) {
      case 'assignDefaultClass':
        await this.core.patchNamespacedPersistentVolumeClaim({namespace, name, body: {spec: {storageClassName: step.className}}}, mergePatch)
        return undefined
      case 'wait':
        this.recordOnce(claim, step.event)
        return undefined
    }
    const volume = provisionedVolume(claim, step.storageClass, this.volumeRoot)
    await mkdir(volume.spec!.hostPath!.path, {recursive: true})
    const created = await tolerate([409], () => this.core.createPersistentVolume({body: volume}))
    if (!created) return this.core.readPersistentVolume({name: volumeNameFor(claim)})
    this.events.record(
      {apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: claim.metadata},
      'Normal',
      'ProvisioningSucceeded',
      `Successfully provisioned volume ${created.metadata?.name} using ${PROVISIONER}`,
    )
    return created
  }

  private recordOnce(claim: V1PersistentVolumeClaim, event: ClaimEvent): void {
    const key = `${claim.metadata?.uid}|${event.reason}|${event.message}`
    if (this.recorded.has(key)) return
    this.recorded.add(key)
    this.events.record({apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: claim.metadata}, event.type, event.reason, event.message)
  }

  private async syncVolume(name: string): Promise<void> {
    const volume = this.informers.volumes.get(name)
    const ref = volume?.spec?.claimRef
    if (!volume || !ref?.name || volume.metadata?.deletionTimestamp) return
    const cached = this.informers.claims.get(ref.name, ref.namespace)
    if (cached && (!ref.uid || cached.metadata?.uid === ref.uid)) return
    if (await this.claimStillExists(ref.namespace ?? '', ref.name, ref.uid)) return

    if (volume.spec?.persistentVolumeReclaimPolicy !== 'Delete') {
      if (volume.status?.phase !== 'Released') {
        await this.core.patchPersistentVolumeStatus({name, body: {status: {phase: 'Released'}}}, mergePatch)
      }
      return
    }
    const folder = ownedFolder(volume, this.volumeRoot)
    if (folder) await rm(folder, {recursive: true, force: true})
    await tolerate([404], () => this.core.deletePersistentVolume({name}))
    this.log(`deleted volume ${name} of released claim ${ref.namespace}/${ref.name}`)
  }

  /** The watch cache may lag behind a claim that was just created; ask the API server before reclaiming. */
  private async claimStillExists(namespace: string, name: string, uid: string | undefined): Promise<boolean> {
    try {
      const claim = await this.core.readNamespacedPersistentVolumeClaim({namespace, name})
      return !uid || claim.metadata?.uid === uid
    } catch (error) {
      if (apiCode(error) === 404) return false
      throw error
    }
  }
}

import type {KubeConfig} from '@kubernetes/client-node'

import {createInformers} from './informers.js'
import {Scheduler} from './scheduler.js'
import {StatefulSetController} from './statefulset.js'
import {VolumeController} from './volumes.js'

export interface ControllerOptions {
  log?: (line: string) => void
  /** Folder under which provisioned PersistentVolumes get their hostPath folders. */
  volumeRoot: string
}

export interface Controllers {
  stop(): Promise<void>
}

/**
 * Starts the sandbox's control plane loops (StatefulSet controller, scheduler, volume provisioner/binder, which
 * installs the default StorageClass) as ordinary API clients of the server kc points at. Resolves once every watch has listed its objects; throws
 * KubeUnreachableError when the server cannot be listed. stop() ends every watch, queue and timer.
 */
export async function startControllers(kc: KubeConfig, options: ControllerOptions): Promise<Controllers> {
  const log = options.log ?? (() => {})
  const informers = createInformers(kc, log)
  const volumes = new VolumeController(kc, informers, options.volumeRoot, log)
  const loops = [new StatefulSetController(kc, informers, log), new Scheduler(kc, informers, log), volumes]
  const stopLoops = () => Promise.all(loops.map((loop) => loop.stop()))
  try {
    await informers.start()
    await volumes.installStorageClass()
  } catch (error) {
    await informers.stop()
    await stopLoops()
    throw error
  }
  return {
    async stop() {
      await informers.stop()
      await stopLoops()
    },
  }
}

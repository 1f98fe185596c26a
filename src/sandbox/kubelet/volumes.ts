import type {V1ConfigMap, V1Container, V1KeyToPath, V1Pod, V1Secret, V1Volume} from '@kubernetes/client-node'
import {randomBytes} from 'node:crypto'
import {chmod, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'

import {decodeSecret, type ObjectSources} from './env.js'
import {type Mount, rewritePaths} from './paths.js'

/** Why a pod's volumes cannot be set up: `retry` for objects that may appear later (FailedMount). */
export class VolumeError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message)
  }
}

/** Host folders of a pod's volumes, by volume name. */
export type VolumeDirs = ReadonlyMap<string, string>

/**
 * Where each volume lives on the host. Per-pod volumes (configMap, secret, projected, emptyDir) live under
 * the pod's runtime folder and go with it; a persistentVolumeClaim maps to its bound PV's host folder and
 * outlives the pod. `claimPaths` holds the host folder of each bound claim.
 */
export function volumeDirs(pod: V1Pod, podDir: string, claimPaths: ReadonlyMap<string, string>): Map<string, string> {
  const dirs = new Map<string, string>()
  for (const volume of pod.spec?.volumes ?? []) {
    const perPod = (kind: string) => join(podDir, 'volumes', kind, volume.name)
    if (volume.configMap) dirs.set(volume.name, perPod('configmap'))
    else if (volume.secret) dirs.set(volume.name, perPod('secret'))
    else if (volume.projected) dirs.set(volume.name, perPod('projected'))
    else if (volume.emptyDir) dirs.set(volume.name, perPod('empty-dir'))
    else if (volume.hostPath) dirs.set(volume.name, resolve(volume.hostPath.path))
    else if (volume.persistentVolumeClaim) {
      const path = claimPaths.get(volume.persistentVolumeClaim.claimName)
      if (path === undefined) throw new VolumeError(`persistentvolumeclaim "${volume.persistentVolumeClaim.claimName}" is not bound`, true)
      dirs.set(volume.name, path)
    } else {
      const kind = Object.keys(volume).find((key) => key !== 'name') ?? 'unknown'
      throw new VolumeError(`volume "${volume.name}" of type ${kind} is not supported by the sandbox's kubelet`, false)
    }
  }
  return dirs
}

/** A container's mounts: each volumeMount's path mapped to its volume folder (and subPath within it). */
export function containerMounts(container: V1Container, dirs: VolumeDirs): Mount[] {
  return (container.volumeMounts ?? []).map((mount) => {
    const dir = dirs.get(mount.name)
    if (dir === undefined) throw new VolumeError(`volumeMount "${mount.name}" names no volume of the pod`, false)
    return {containerPath: mount.mountPath, hostPath: mount.subPath ? join(dir, mount.subPath) : dir}
  })
}

/**
 * Writes the pod's volumes to disk. ConfigMap files have their container paths rewritten (see paths.ts);
 * secrets are written as they are. Folders (emptyDir, claims, subPaths) are created when missing and never
 * emptied, so data survives container restarts and, for claims, the pod itself.
 */
export async function materialiseVolumes(pod: V1Pod, dirs: VolumeDirs, mounts: readonly Mount[], sources: ObjectSources): Promise<void> {
  for (const volume of pod.spec?.volumes ?? []) {
    const dir = dirs.get(volume.name)
    if (dir === undefined) continue
    const files = volumeFiles(volume, sources)
    if (files) await writeAtomically(dir, volume.name, files, mounts)
    else if (volume.persistentVolumeClaim || volume.emptyDir || volume.hostPath?.type === 'DirectoryOrCreate') {
      await mkdir(dir, {recursive: true})
    }
  }
  const folderVolumes = new Set((pod.spec?.volumes ?? []).filter((v) => !isFileVolume(v)).map((v) => v.name))
  for (const container of pod.spec?.containers ?? []) {
    for (const mount of container.volumeMounts ?? []) {
      const dir = dirs.get(mount.name)
      if (mount.subPath && dir !== undefined && folderVolumes.has(mount.name)) await mkdir(join(dir, mount.subPath), {recursive: true})
    }
  }
}

/**
 * Brings the ConfigMap, Secret and projected volumes of a running pod up to date with their objects, as a kubelet's
 * sync does; the names of the volumes that changed. A volume whose object is gone keeps its files (a kubelet too
 * keeps the last version it had).
 */
export async function refreshVolumes(pod: V1Pod, dirs: VolumeDirs, mounts: readonly Mount[], sources: ObjectSources): Promise<string[]> {
  const changed: string[] = []
  for (const volume of pod.spec?.volumes ?? []) {
    const dir = dirs.get(volume.name)
    if (dir === undefined || !isFileVolume(volume)) continue
    let files: VolumeFile[]
    try {
      files = volumeFiles(volume, sources) ?? []
    } catch (error) {
      if (error instanceof VolumeError) continue
      throw error
    }
    if (await writeAtomically(dir, volume.name, files, mounts)) changed.push(volume.name)
  }
  return changed
}

const DATA_LINK = '..data'

/**
 * A kubelet's AtomicWriter: the files go into a fresh hidden folder, `..data` is switched to it by renaming a
 * symlink over it (one atomic step, so a reader sees the old set or the new one, never a mix), and each top-level
 * name is a symlink through `..data`. False when the files on disk already have this content.
 */
async function writeAtomically(dir: string, volume: string, files: VolumeFile[], mounts: readonly Mount[]): Promise<boolean> {
  const contents = files.map((file) => ({...file, content: file.rewrite ? Buffer.from(rewritePaths(file.content.toString('utf8'), mounts)) : file.content}))
  if (await sameAsOnDisk(dir, contents)) return false
  await mkdir(dir, {recursive: true})
  const previous = await readlink(join(dir, DATA_LINK)).catch(() => undefined)
  const version = `..${new Date().toISOString().replaceAll(':', '_')}.${randomBytes(4).toString('hex')}`
  const versionDir = join(dir, version)
  for (const file of contents) {
    const target = join(versionDir, file.path)
    if (!target.startsWith(versionDir + '/')) throw new VolumeError(`volume "${volume}": item path "${file.path}" leaves the volume`, false)
    await mkdir(dirname(target), {recursive: true})
    await writeFile(target, file.content)
    await chmod(target, file.mode)
  }
  const tmpLink = join(dir, `${DATA_LINK}_tmp`)
  await rm(tmpLink, {force: true})
  await symlink(version, tmpLink)
  await rename(tmpLink, join(dir, DATA_LINK))
  const topLevel = new Set(contents.map((file) => file.path.split('/')[0]))
  for (const name of topLevel) {
    const link = join(dir, name)
    if ((await readlink(link).catch(() => undefined)) === join(DATA_LINK, name)) continue
    await rm(link, {recursive: true, force: true})
    await symlink(join(DATA_LINK, name), link)
  }
  for (const entry of await readdir(dir)) {
    const stale = entry.startsWith('..') ? entry === previous : !topLevel.has(entry)
    if (stale) await rm(join(dir, entry), {recursive: true, force: true})
  }
  return true
}

async function sameAsOnDisk(dir: string, files: ReadonlyArray<{path: string; content: Buffer}>): Promise<boolean> {
  const version = await readlink(join(dir, DATA_LINK)).catch(() => undefined)
  if (version === undefined) return false
  const onDisk = await listFiles(join(dir, version))
  if (onDisk.length !== files.length) return false
  for (const file of files) {
    const content = await readFile(join(dir, version, file.path)).catch(() => undefined)
    if (!content?.equals(file.content)) return false
  }
  return true
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true}).catch(() => [])
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

const isFileVolume = (volume: V1Volume): boolean => Boolean(volume.configMap ?? volume.secret ?? volume.projected)

/** The ConfigMap, Secret and claim names the pod's volumes need, to fetch before materialising them. */
export function volumeReferences(pod: V1Pod): {configMaps: string[]; secrets: string[]; claims: string[]} {
  const configMaps = new Set<string>()
  const secrets = new Set<string>()
  const claims = new Set<string>()
  for (const volume of pod.spec?.volumes ?? []) {
    if (volume.configMap?.name) configMaps.add(volume.configMap.name)
    if (volume.secret?.secretName) secrets.add(volume.secret.secretName)
    if (volume.persistentVolumeClaim) claims.add(volume.persistentVolumeClaim.claimName)
    for (const source of volume.projected?.sources ?? []) {
      if (source.configMap?.name) configMaps.add(source.configMap.name)
      if (source.secret?.name) secrets.add(source.secret.name)
    }
  }
  return {configMaps: [...configMaps], secrets: [...secrets], claims: [...claims]}
}

interface VolumeFile {
  path: string
  content: Buffer
  mode: number
  rewrite: boolean
}

const DEFAULT_MODE = 0o644

/**
 * The files of a configMap, secret or projected volume; undefined for folder volumes. A projected volume's
 * serviceAccountToken and downwardAPI sources are left out: nothing the sandbox runs reads them, and a real
 * API server injects such a volume into every pod.
 */
function volumeFiles(volume: V1Volume, sources: ObjectSources): VolumeFile[] | undefined {
  if (volume.configMap) {
    const {name = '', items, defaultMode = DEFAULT_MODE, optional} = volume.configMap
    return configMapFiles(sources.configMaps.get(name), name, items, defaultMode, optional)
  }
  if (volume.secret) {
    const {secretName = '', items, defaultMode = DEFAULT_MODE, optional} = volume.secret
    return secretFiles(sources.secrets.get(secretName), secretName, items, defaultMode, optional)
  }
  if (volume.projected) {
    const mode = volume.projected.defaultMode ?? DEFAULT_MODE
    return (volume.projected.sources ?? []).flatMap((source) => {
      if (source.configMap) return configMapFiles(sources.configMaps.get(source.configMap.name ?? ''), source.configMap.name ?? '', source.configMap.items, mode, source.configMap.optional)
      if (source.secret) return secretFiles(sources.secrets.get(source.secret.name ?? ''), source.secret.name ?? '', source.secret.items, mode, source.secret.optional)
      return []
    })
  }
  return undefined
}

function configMapFiles(configMap: V1ConfigMap | undefined, name: string, items: V1KeyToPath[] | undefined, mode: number, optional?: boolean): VolumeFile[] {
  if (!configMap) {
    if (optional) return []
    throw new VolumeError(`configmap "${name}" not found`, true)
  }
  const data = new Map<string, Buffer>()
  for (const [key, value] of Object.entries(configMap.data ?? {})) data.set(key, Buffer.from(value, 'utf8'))
  for (const [key, value] of Object.entries(configMap.binaryData ?? {})) data.set(key, Buffer.from(value, 'base64'))
  return selectItems(data, `configmap "${name}"`, items, mode, optional).map((file) => ({...file, rewrite: true}))
}

function secretFiles(secret: V1Secret | undefined, name: string, items: V1KeyToPath[] | undefined, mode: number, optional?: boolean): VolumeFile[] {
  if (!secret) {
    if (optional) return []
    throw new VolumeError(`secret "${name}" not found`, true)
  }
  const data = new Map(Object.entries(decodeSecret(secret)).map(([key, value]) => [key, Buffer.from(value, 'utf8')]))
  return selectItems(data, `secret "${name}"`, items, mode, optional).map((file) => ({...file, rewrite: false}))
}

function selectItems(data: Map<string, Buffer>, what: string, items: V1KeyToPath[] | undefined, mode: number, optional?: boolean): Omit<VolumeFile, 'rewrite'>[] {
  if (!items || items.length === 0) return [...data].map(([key, content]) => ({path: key, content, mode}))
  const files: Omit<VolumeFile, 'rewrite'>[] = []
  for (const item of items) {
    const content = data.get(item.key)
    if (content === undefined) {
      if (optional) continue
      throw new VolumeError(`${what} has no key "${item.key}"`, true)
    }
    files.push({path: item.path, content, mode: item.mode ?? mode})
  }
  return files
}

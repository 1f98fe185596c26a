import type {V1Pod} from '@kubernetes/client-node'
import {mkdtemp, readFile, readlink, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {containerMounts, materialiseVolumes, refreshVolumes, VolumeError, volumeDirs} from '../../src/sandbox/kubelet/volumes.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubelet-volumes-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

const pod = (volumes: NonNullable<V1Pod['spec']>['volumes'], volumeMounts: NonNullable<V1Pod['spec']>['containers'][number]['volumeMounts']): V1Pod => ({
  metadata: {name: 'redis-0', namespace: 'ns', uid: 'u'},
  spec: {containers: [{name: 'redis', volumeMounts}], volumes},
})

const sources = {
  configMaps: new Map([['conf', {data: {'redis.conf': 'dir /data\nport 7000\n', other: 'x'}}]]),
  secrets: new Map([['auth', {data: {password: Buffer.from('s3cret').toString('base64')}}]]),
}

async function setUp(p: V1Pod, claims = new Map<string, string>()) {
  const dirs = volumeDirs(p, join(dir, 'pod'), claims)
  const mounts = containerMounts(p.spec!.containers[0], dirs)
  await materialiseVolumes(p, dirs, mounts, sources)
  return {dirs, mounts}
}

describe('pod volumes on the host', () => {
  it('writes ConfigMap files with their container paths pointing at the host folders', async () => {
    const p = pod(
      [
        {name: 'conf', configMap: {name: 'conf'}},
        {name: 'data', persistentVolumeClaim: {claimName: 'data-redis-0'}},
      ],
      [
        {name: 'conf', mountPath: '/etc/redis'},
        {name: 'data', mountPath: '/data'},
      ],
    )
    const {dirs} = await setUp(p, new Map([['data-redis-0', join(dir, 'pv')]]))
    expect(await readFile(join(dirs.get('conf')!, 'redis.conf'), 'utf8')).toBe(`dir ${join(dir, 'pv')}\nport 7000\n`)
    expect((await stat(join(dir, 'pv'))).isDirectory()).toBe(true)
  })

  it('writes only the listed items, at their paths and modes', async () => {
    const p = pod([{name: 'conf', configMap: {name: 'conf', items: [{key: 'redis.conf', path: 'sub/r.conf', mode: 0o600}]}}], [{name: 'conf', mountPath: '/c'}])
    const {dirs} = await setUp(p)
    const file = join(dirs.get('conf')!, 'sub', 'r.conf')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    await expect(stat(join(dirs.get('conf')!, 'other'))).rejects.toThrow()
  })

  it('writes Secret values decoded', async () => {
    const p = pod([{name: 'auth', secret: {secretName: 'auth'}}], [{name: 'auth', mountPath: '/auth'}])
    const {dirs} = await setUp(p)
    expect(await readFile(join(dirs.get('auth')!, 'password'), 'utf8')).toBe('s3cret')
  })

  it('maps a subPath mount to the file or folder inside the volume, creating folders', async () => {
    const p = pod(
      [{name: 'scratch', emptyDir: {}}, {name: 'conf', configMap: {name: 'conf'}}],
      [
        {name: 'scratch', mountPath: '/data', subPath: 'redis'},
        {name: 'conf', mountPath: '/usr/local/etc/redis/redis.conf', subPath: 'redis.conf'},
      ],
    )
    const {dirs, mounts} = await setUp(p)
    expect((await stat(join(dirs.get('scratch')!, 'redis'))).isDirectory()).toBe(true)
    expect(mounts[1].hostPath).toBe(join(dirs.get('conf')!, 'redis.conf'))
  })

  it('waits for a missing ConfigMap or an unbound claim, as a retryable error', () => {
    const unbound = pod([{name: 'data', persistentVolumeClaim: {claimName: 'nope'}}], [])
    expect(() => volumeDirs(unbound, dir, new Map())).toThrow(expect.objectContaining({retry: true}))
    const missing = pod([{name: 'c', configMap: {name: 'absent'}}], [{name: 'c', mountPath: '/c'}])
    return expect(setUp(missing)).rejects.toMatchObject({retry: true, message: 'configmap "absent" not found'})
  })

  it('refuses a volume type it cannot provide, for good', () => {
    const p = pod([{name: 'nfs', nfs: {server: 'x', path: '/'}}], [])
    expect(() => volumeDirs(p, dir, new Map())).toThrow(VolumeError)
    expect(() => volumeDirs(p, dir, new Map())).toThrow(expect.objectContaining({retry: false}))
  })
})

describe('a running pod\'s Secret and ConfigMap volumes, refreshed as a kubelet does', () => {
  const tlsPod = pod([{name: 'tls', secret: {secretName: 'tls'}}, {name: 'conf', configMap: {name: 'conf'}}], [{name: 'tls', mountPath: '/tls'}, {name: 'conf', mountPath: '/etc/redis'}])
  const secretOf = (cert: string) => ({
    configMaps: sources.configMaps,
    secrets: new Map([['tls', {data: {'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(`key of ${cert}`).toString('base64')}}]]),
  })

  it('gives each key a symlink through ..data, which points at a hidden folder of one version', async () => {
    const dirs = volumeDirs(tlsPod, join(dir, 'pod'), new Map())
    const mounts = containerMounts(tlsPod.spec!.containers[0], dirs)
    await materialiseVolumes(tlsPod, dirs, mounts, secretOf('one'))
    const tls = dirs.get('tls')!
    expect(await readlink(join(tls, 'tls.crt'))).toBe('..data/tls.crt')
    expect(await readlink(join(tls, '..data'))).toMatch(/^\.\.\d{4}-/)
    expect(await readFile(join(tls, 'tls.crt'), 'utf8')).toBe('one')
  })

  it('swaps in a changed Secret (certificate and key together) and says which volume changed; an unchanged one is left alone', async () => {
    const dirs = volumeDirs(tlsPod, join(dir, 'pod'), new Map())
    const mounts = containerMounts(tlsPod.spec!.containers[0], dirs)
    await materialiseVolumes(tlsPod, dirs, mounts, secretOf('one'))
    const tls = dirs.get('tls')!
    const first = await readlink(join(tls, '..data'))
    expect(await refreshVolumes(tlsPod, dirs, mounts, secretOf('one'))).toEqual([])
    expect(await refreshVolumes(tlsPod, dirs, mounts, secretOf('two'))).toEqual(['tls'])
    expect(await readFile(join(tls, 'tls.crt'), 'utf8')).toBe('two')
    expect(await readFile(join(tls, 'tls.key'), 'utf8')).toBe('key of two')
    expect(await readlink(join(tls, '..data'))).not.toBe(first)
    await expect(stat(join(tls, first))).rejects.toThrow()
  })

  it('keeps the last files when the Secret is gone, as a kubelet does', async () => {
    const dirs = volumeDirs(tlsPod, join(dir, 'pod'), new Map())
    const mounts = containerMounts(tlsPod.spec!.containers[0], dirs)
    await materialiseVolumes(tlsPod, dirs, mounts, secretOf('one'))
    expect(await refreshVolumes(tlsPod, dirs, mounts, {configMaps: sources.configMaps, secrets: new Map()})).toEqual([])
    expect(await readFile(join(dirs.get('tls')!, 'tls.crt'), 'utf8')).toBe('one')
  })
})

import {describe, expect, it} from 'vitest'

import {hostPathFor, rewritePaths} from '../../src/sandbox/kubelet/paths.js'

const mounts = [
  {containerPath: '/data', hostPath: '/srv/pv/data-redis-0'},
  {containerPath: '/conf', hostPath: '/state/pods/p/volumes/configmap/conf'},
  {containerPath: '/conf/extra', hostPath: '/state/pods/p/volumes/configmap/extra'},
  {containerPath: '/usr/local/etc/redis/redis.conf', hostPath: '/state/pods/p/volumes/configmap/conf/redis.conf'},
]

describe('container path translation (the sandbox has no mount namespaces)', () => {
  it('maps a path under a mount to the host folder', () => {
    expect(hostPathFor('/data/nodes.conf', mounts)).toBe('/srv/pv/data-redis-0/nodes.conf')
  })

  it('maps the mount point itself', () => {
    expect(hostPathFor('/data', mounts)).toBe('/srv/pv/data-redis-0')
  })

  it('prefers the deepest mount', () => {
    expect(hostPathFor('/conf/extra/a.conf', mounts)).toBe('/state/pods/p/volumes/configmap/extra/a.conf')
  })

  it('maps a subPath mount of a single file', () => {
    expect(hostPathFor('/usr/local/etc/redis/redis.conf', mounts)).toBe('/state/pods/p/volumes/configmap/conf/redis.conf')
  })

  it('does not map a path that only shares a prefix with a mount', () => {
    expect(hostPathFor('/database/x', mounts)).toBeUndefined()
  })

  it('rewrites paths inside a redis.conf and keeps everything else', () => {
    const conf = 'port 6379\ndir /data\ncluster-config-file "/data/nodes.conf"\nlogfile /var/log/redis.log\ninclude /conf/common.conf\n'
    expect(rewritePaths(conf, mounts)).toBe(
      'port 6379\ndir /srv/pv/data-redis-0\ncluster-config-file "/srv/pv/data-redis-0/nodes.conf"\nlogfile /var/log/redis.log\ninclude /state/pods/p/volumes/configmap/conf/common.conf\n',
    )
  })

  it('rewrites a path given as an option value after =', () => {
    expect(rewritePaths('--dir=/data', mounts)).toBe('--dir=/srv/pv/data-redis-0')
  })

  it('changes nothing without mounts', () => {
    expect(rewritePaths('dir /data', [])).toBe('dir /data')
  })
})

import {describe, expect, it} from 'vitest'

import {backOffMs, goDuration} from '../../src/sandbox/kubelet/backoff.js'
import {serverOfImage} from '../../src/sandbox/kubelet/container-command.js'
import {fullReference, parseImageMap, parseImageMapping, pullImage} from '../../src/sandbox/kubelet/images.js'

describe('images in the sandbox', () => {
  it('maps redis* and valkey* images, whatever their registry and tag, to the installed servers', () => {
    expect(['redis:7.0', 'docker.io/library/redis', 'bitnami/redis:7.2', 'localhost:5000/redis-stack-server:7'].map(serverOfImage)).toEqual(Array(4).fill('redis-server'))
    expect(serverOfImage('valkey/valkey:8')).toBe('valkey-server')
    expect(['reddis:7.0', 'nginx', 'registry.example.com/cache/memcached:1'].map(serverOfImage)).toEqual([undefined, undefined, undefined])
    expect(pullImage('redis:7.0', 'redis-server', new Map(), '/usr/bin/redis-server')).toEqual({ok: true, binary: '/usr/bin/redis-server'})
  })

  it('cannot pull an image that maps to nothing, and says so as containerd does', () => {
    expect(pullImage('reddis:7.0', 'redis-server', new Map())).toEqual({
      ok: false,
      notFound: true,
      message:
        'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/reddis:7.0": failed to resolve reference "docker.io/library/reddis:7.0": docker.io/library/reddis:7.0: not found',
    })
  })

  it('follows the image map first: a binary for any image, or nothing even for a redis image', () => {
    const map = new Map([['cache:1', '/usr/bin/redis-server'], ['redis:7.0-broken', '']])
    expect(pullImage('cache:1', 'redis-server', map)).toEqual({ok: true, binary: '/usr/bin/redis-server'})
    expect(pullImage('redis:7.0-broken', 'redis-server', map)).toMatchObject({ok: false, notFound: true})
  })

  it('reports a redis image whose server is not installed apart from a missing image', () => {
    expect(pullImage('redis:7.0', 'redis-server', new Map(), '/nonexistent/redis-server')).toEqual({ok: false, notFound: false})
  })

  it('names images in full as a container runtime resolves them', () => {
    expect(['reddis', 'bitnami/redis:7', 'ghcr.io/acme/redis:1', 'localhost:5000/r', 'redis@sha256:abc'].map(fullReference)).toEqual([
      'docker.io/library/reddis:latest',
      'docker.io/bitnami/redis:7',
      'ghcr.io/acme/redis:1',
      'localhost:5000/r:latest',
      'docker.io/library/redis@sha256:abc',
    ])
  })

  it('reads IMAGE=PATH lines, skipping comments, and reports lines that are not mappings', () => {
    const {map, errors} = parseImageMap('# images\nredis:7.2=/opt/redis-7.2/bin/redis-server\n\nredis:bad=\nnonsense\nx=relative/path\n')
    expect([...map]).toEqual([['redis:7.2', '/opt/redis-7.2/bin/redis-server'], ['redis:bad', '']])
    expect(errors).toEqual(['"nonsense" is not IMAGE=PATH', '"x=relative/path": PATH must be absolute'])
    expect(() => parseImageMapping('=/usr/bin/redis-server')).toThrow('is not IMAGE=PATH')
  })
})

describe('kubelet back-off', () => {
  it('doubles from 500ms up to 5s, and prints durations as Go does', () => {
    expect([1, 2, 3, 4, 5, 6].map(backOffMs)).toEqual([500, 1000, 2000, 4000, 5000, 5000])
    expect([500, 1000, 5000, 1500, 80_000, 300_000].map(goDuration)).toEqual(['500ms', '1s', '5s', '1.5s', '1m20s', '5m0s'])
  })
})

import {describe, expect, it} from 'vitest'

import {resolveServerCommand} from '../../src/sandbox/kubelet/container-command.js'
import {configFileOf, listeningPort, serverArgs} from '../../src/sandbox/kubelet/server-args.js'

describe('which process a container runs', () => {
  it('runs command plus args when command names redis-server', () => {
    expect(resolveServerCommand({name: 'redis', image: 'redis:7', command: ['redis-server', '/conf/redis.conf'], args: ['--port', '7000']})).toEqual({
      runnable: true,
      server: 'redis-server',
      args: ['/conf/redis.conf', '--port', '7000'],
    })
  })

  it('accepts a full path to the server binary', () => {
    expect(resolveServerCommand({name: 'redis', image: 'x', command: ['/usr/local/bin/redis-server']})).toMatchObject({runnable: true, args: []})
  })

  it('runs args[0] when there is no command', () => {
    expect(resolveServerCommand({name: 'redis', image: 'busybox', args: ['redis-server', '--port', '7000']})).toMatchObject({runnable: true, args: ['--port', '7000']})
  })

  it('gives options alone to the server of a redis image, like its entrypoint', () => {
    expect(resolveServerCommand({name: 'redis', image: 'docker.io/library/redis:7.0', args: ['--cluster-enabled', 'yes']})).toMatchObject({
      runnable: true,
      args: ['--cluster-enabled', 'yes'],
    })
  })

  it('gives a .conf file alone to the server of a redis image', () => {
    expect(resolveServerCommand({name: 'redis', image: 'redis', args: ['/conf/redis.conf']})).toMatchObject({runnable: true, args: ['/conf/redis.conf']})
  })

  it('runs the bare server for a redis or valkey image with neither command nor args', () => {
    expect(resolveServerCommand({name: 'r', image: 'redis:7.2-alpine'})).toMatchObject({runnable: true, server: 'redis-server'})
    expect(resolveServerCommand({name: 'v', image: 'valkey/valkey:8'})).toMatchObject({runnable: true, server: 'valkey-server'})
  })

  it('refuses any other program with a message naming the container', () => {
    const result = resolveServerCommand({name: 'web', image: 'nginx:1.27', command: ['nginx', '-g', 'daemon off;']})
    expect(result.runnable).toBe(false)
    expect(result.runnable === false && result.message).toMatch(/container "web" cannot run: it would run "nginx".*only redis-server/)
  })

  it('refuses a non-redis image without command', () => {
    expect(resolveServerCommand({name: 'app', image: 'nginx'}).runnable).toBe(false)
  })

  it('refuses a shell wrapper, which the host will not run', () => {
    expect(resolveServerCommand({name: 'redis', image: 'redis', command: ['sh', '-c', 'redis-server']}).runnable).toBe(false)
  })
})

describe('the server command line', () => {
  it('binds the server to the pod IP, as the source of its connections too, in the foreground', () => {
    expect(serverArgs(['/conf/redis.conf'], '127.64.0.9')).toEqual(['/conf/redis.conf', '--protected-mode', 'no', '--bind', '127.64.0.9', '--bind-source-addr', '127.64.0.9', '--daemonize', 'no'])
  })

  it('finds the config file only in first position', () => {
    expect(configFileOf(['/conf/redis.conf', '--port', '7000'])).toBe('/conf/redis.conf')
    expect(configFileOf(['--port', '7000'])).toBeUndefined()
  })

  it('takes the port from --port over the config file', () => {
    expect(listeningPort(['c.conf', '--port', '7001'], 'port 7000\n')).toBe(7001)
  })

  it('takes the port from the config file, last directive winning', () => {
    expect(listeningPort(['c.conf'], 'port 7000\n# port 1\nport 7002\n')).toBe(7002)
  })

  it('takes the tls-port of a server that turns its plaintext port off (port 0)', () => {
    expect(listeningPort(['c.conf'], 'port 0\ntls-port 6390\n')).toBe(6390)
    expect(listeningPort(['c.conf', '--tls-port', '6391'], 'port 0\ntls-port 6390\n')).toBe(6391)
  })

  it('defaults to 6379', () => {
    expect(listeningPort([], '')).toBe(6379)
  })
})

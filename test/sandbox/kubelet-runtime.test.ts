import {spawn} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile, mkdir} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {pingServer, tcpOpen} from '../../src/redis/probe.js'
import {startServer, stopStaleServers} from '../../src/sandbox/kubelet/process.js'
import {serverArgs} from '../../src/sandbox/kubelet/server-args.js'
import {isRedisProcess, waitFor} from './kubelet-harness.js'

const IP = '127.99.0.1'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubelet-runtime-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

const launch = (name: string, args: string[] = []) => ({
  binary: 'redis-server',
  args: serverArgs(['--save', '', '--port', '6379', ...args], IP),
  env: {PATH: process.env.PATH ?? ''},
  cwd: join(dir, 'cwd'),
  logFile: join(dir, 'pods', 'p', `${name}.log`),
  pidFile: join(dir, 'pods', 'p', `${name}.pid`),
})

describe('container processes', () => {
  it('run redis-server on the pod IP with its output in the log file, and stop on request', async () => {
    await mkdir(join(dir, 'pods', 'p'), {recursive: true})
    const server = await startServer(launch('redis'))
    await waitFor('PING answered', () => pingServer(IP, 6379, 500))
    expect(await tcpOpen(IP, 6379, 500)).toBe(true)
    expect(await readFile(join(dir, 'pods', 'p', 'redis.pid'), 'utf8')).toBe(String(server.pid))

    const exit = await server.stop(2000)
    expect(exit).toMatchObject({exitCode: 0, reason: 'Completed'})
    expect(await readFile(join(dir, 'pods', 'p', 'redis.log'), 'utf8')).toMatch(/Ready to accept connections/)
    expect(await pingServer(IP, 6379, 200)).toBe(false)
  })

  it('report a server killed by a signal as exit code 128 + signal', async () => {
    await mkdir(join(dir, 'pods', 'p'), {recursive: true})
    const server = await startServer(launch('redis'))
    process.kill(server.pid, 'SIGKILL')
    expect(await server.exited).toMatchObject({exitCode: 137, signal: 9, reason: 'Error'})
  })

  it('count a password refusal as an answering server', async () => {
    await mkdir(join(dir, 'pods', 'p'), {recursive: true})
    const server = await startServer(launch('redis', ['--requirepass', 'secret']))
    try {
      await waitFor('PING answered with NOAUTH', () => pingServer(IP, 6379, 500))
    } finally {
      await server.stop(2000)
    }
  })

  it('left behind by a killed kubelet are stopped through their pid files', async () => {
    const podDir = join(dir, 'pods', 'orphan')
    await mkdir(podDir, {recursive: true})
    const orphan = spawn('redis-server', ['--save', '', '--port', '6379', '--bind', '127.99.0.2'], {stdio: 'ignore', detached: true})
    await writeFile(join(podDir, 'redis.pid'), String(orphan.pid))
    await waitFor('orphan running', () => isRedisProcess(orphan.pid!))

    expect(await stopStaleServers(join(dir, 'pods'), 2000)).toEqual([orphan.pid])
    await waitFor('orphan gone', async () => orphan.exitCode !== null || orphan.signalCode !== null)
  })

  it('are never confused with an unrelated process reusing a pid', async () => {
    const podDir = join(dir, 'pods', 'reused')
    await mkdir(podDir, {recursive: true})
    await writeFile(join(podDir, 'redis.pid'), String(process.pid))
    expect(await stopStaleServers(join(dir, 'pods'), 2000)).toEqual([])
  })
})

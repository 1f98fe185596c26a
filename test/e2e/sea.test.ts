import {execFile} from 'node:child_process'
import {mkdir, mkdtemp, readdir, readlink, rm, symlink} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {StatusResult} from '../../src/commands/status.js'
import {json, type CliResult} from '../support/cli.js'
import {runWatchingCommandLine} from '../support/command-lines.js'
import {podIpRange, run} from './e2e-support.js'

/**
 * The standalone executable (npm run build:sea) as a CI job would use it: one file, run with a PATH that holds
 * redis-server and redis-cli for the sandbox and no Node.
 */
describe('the standalone redisctl executable', () => {
  let root: string
  let redisctl: string
  /** Only the environment a bare CI machine would give it. */
  let env: Record<string, string>
  const dir = () => join(root, 'sandbox')
  const sea = (args: string[], more: Record<string, string> = {}): Promise<CliResult> =>
    run(redisctl, args, {env: {...env, ...more}, timeoutMs: 120_000})

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'redisctl-sea-'))
    redisctl = join(root, 'redisctl')
    // Built once from the dist/ of this run, beside it rather than into it: other test files use dist/ meanwhile.
    await promisify(execFile)(process.execPath, ['scripts/build-sea.mjs', '--out', redisctl], {maxBuffer: 16 << 20})
    const bin = join(root, 'bin')
    await mkdir(bin)
    for (const tool of ['redis-server', 'redis-cli']) await symlink(`/usr/bin/${tool}`, join(bin, tool))
    // run() passes the test's own environment through: every variable that could lead to a Node is blanked.
    env = {PATH: bin, HOME: root, XDG_CACHE_HOME: join(root, 'cache'), NODE_OPTIONS: '', NODE_PATH: '', CI: 'true'}
  }, 300_000)

  afterAll(async () => {
    if (!root) return
    await sea(['sandbox', 'down', '--dir', dir(), '--purge'])
    await rm(root, {recursive: true, force: true})
  })

  it('is one file that runs from a PATH without node: --version names redisctl and its version', async () => {
    expect(await readdir(join(root, 'bin'))).toEqual(['redis-cli', 'redis-server'])
    const version = await sea(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^redisctl\/\d+\.\d+\.\d+ linux-x64 node-v\d+/)
  })

  it('sandbox up starts the sandbox daemon as a process of the executable itself', async () => {
    const up = await sea(['sandbox', 'up', '--dir', dir(), '--pod-ip-range', podIpRange(248), '--json'])
    expect(up.code).toBe(0)
    const {pid, kubeconfig} = json<{pid: number; kubeconfig: string}>(up)
    expect(await readlink(`/proc/${pid}/exe`)).toBe(redisctl)
    env.KUBECONFIG = kubeconfig
  })

  it('cluster create forms a cluster on the sandbox and status shows it', async () => {
    const created = await sea(['cluster', 'create', '--masters', '3', '--replicas-per-master', '0', '--json'])
    expect(created.code).toBe(0)
    expect(json<{masters: unknown[]}>(created).masters).toHaveLength(3)
    const status = await sea(['status', '--json'])
    expect(status.code).toBe(0)
    expect(json<StatusResult>(status)).toMatchObject({summary: {clusterState: 'ok'}, nodes: [{role: 'master'}, {role: 'master'}, {role: 'master'}]})
  })

  it('a command that moves keys re-executes the executable with the memory flags as --node-options', async () => {
    const rebalance = await runWatchingCommandLine(redisctl, ['slots', 'rebalance', '--dry-run'], env)
    expect(rebalance.code).toBe(0)
    expect(rebalance.commandLines.at(-1)).toEqual([redisctl, '--node-options=--max-semi-space-size=4 --optimize-for-size', 'slots', 'rebalance', '--dry-run'])
  })

  it('teardown deletes what create made', async () => {
    const teardown = await sea(['teardown', '--with-pvcs', '--yes', '--json'])
    expect(teardown.code).toBe(0)
    expect(json<{nothingToDo: boolean; keptPvcs: string[]}>(teardown)).toMatchObject({nothingToDo: false, keptPvcs: []})
    expect(json<{nothingToDo: boolean}>(await sea(['teardown', '--yes', '--json']))).toMatchObject({nothingToDo: true})
  })
})

import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, type ProcessSeen, runCliWatchingChildren} from '../support/cli.js'
import {type E2eSandbox, redisServerProcesses, secretValue, startE2eSandbox} from './e2e-support.js'

/**
 * Passwords never reach a process's arguments or environment, nor any output: read from /proc for every redis-server
 * the sandbox's kubelet runs and every process the CLI starts, while it runs, through a cluster's whole auth life
 * (a password from a Secret and from REDISCTL_PASSWORD, its rotation, an ACL cluster and its users).
 */

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`
const ACL_USERS = ['redisctl-admin', 'replication', 'app']

describe('secrets stay out of argv, environments and output', () => {
  let sandbox: E2eSandbox
  const runs: Array<CliResult & {args: string[]; ownCmdlines: string[]; children: ProcessSeen[]}> = []
  /** Every password met during the test (as Secrets hold them), rotated ones included. */
  const passwords = new Set([PASSWORD])

  const cli = async (args: string[], env: Record<string, string> = {}, code = 0): Promise<CliResult> => {
    const result = await runCliWatchingChildren(args, {env: {KUBECONFIG: sandbox.kubeconfig, ...env}, timeoutMs: 240_000})
    runs.push({...result, args})
    if (result.code !== code) throw new Error(`redisctl ${args.join(' ')} exited ${result.code}, not ${code}: ${result.stdout}${result.stderr}`)
    return result
  }
  const aclPasswords = async (): Promise<void> => {
    for (const user of ACL_USERS) passwords.add(await secretValue(sandbox, `acl-user-${user}`, 'password'))
  }
  const withPassword = {REDISCTL_PASSWORD: PASSWORD}

  beforeAll(async () => {
    // The CLI that starts the sandbox has a password in its environment; the daemon it starts must not inherit it.
    sandbox = await startE2eSandbox({podIpOctet: 50, env: withPassword})
    const secret = `apiVersion: v1\nkind: Secret\nmetadata: {name: pw}\nstringData: {password: "${PASSWORD}"}\n`
    const applied = await sandbox.kubectl(['apply', '-f', '-'], secret)
    if (applied.code !== 0) throw new Error(applied.stderr)

    await cli(['cluster', 'create', '--name', 'plain', '--password-secret', 'pw', '--replicas-per-master', '0', '--json'])
    await cli(['status', '--name', 'plain', '--json'], withPassword)
    await cli(['check', '--name', 'plain'], withPassword)
    await cli(['slots', 'rebalance', '--name', 'plain', '--json'], withPassword)
    await cli(['auth', 'rotate', '--name', 'plain', '--password-secret', 'pw', '--json'], withPassword)
    passwords.add(await secretValue(sandbox, 'pw', 'password'))
    await cli(['auth', 'rotate', '--name', 'plain', '--password-secret', 'pw', '--finish'])
    await cli(['status', '--name', 'plain', '--password-secret', 'pw'])
    // The rotated-out password, refused: the error names neither it nor the one that works.
    await cli(['status', '--name', 'plain', '--json'], withPassword, 8)

    await cli(['cluster', 'create', '--name', 'acl', '--acl', '--json'], withPassword)
    await aclPasswords()
    await cli(['check', '--name', 'acl', '--json'], withPassword)
    await cli(['auth', 'rotate', '--name', 'acl', '--user', 'redisctl-admin'])
    await cli(['auth', 'rotate', '--name', 'acl', '--user', 'redisctl-admin', '--finish', '--json'])
    await aclPasswords()
  }, 900_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  const leaks = (text: string): string[] => [...passwords].filter((p) => text.includes(p))

  it('met the passwords of both clusters, the rotated ones included', () => {
    expect(passwords.size).toBe(2 + ACL_USERS.length + 1)
    expect(runs.filter((r) => r.code !== 0).map((r) => r.code)).toEqual([8])
  })

  it('the sandbox daemon, started by a CLI that had REDISCTL_PASSWORD, does not inherit it', async () => {
    const environ = await readFile(`/proc/${sandbox.pid}/environ`, 'utf8')
    expect(environ).not.toContain('REDISCTL_PASSWORD')
    expect(leaks(environ)).toEqual([])
  })

  it('no redis-server of either cluster has a password in its arguments or environment', async () => {
    const servers = (await redisServerProcesses()).filter((s) => /127\.50\./.test(s.cmdline) || /POD_IP=127\.50\./.test(s.environ))
    expect(servers.length).toBeGreaterThanOrEqual(9)
    for (const s of servers) expect(leaks(s.cmdline + s.environ), `redis-server ${s.pid}`).toEqual([])
  })

  it('no command has a password in its own arguments (also once it re-executed itself to move keys), nor any process it started in its arguments or environment', () => {
    for (const run of runs) {
      expect(run.ownCmdlines.length, run.args.join(' ')).toBeGreaterThan(0)
      for (const cmdline of run.ownCmdlines) expect(leaks(cmdline), `${run.args.join(' ')}: ${cmdline}`).toEqual([])
      for (const child of run.children) expect(leaks(child.cmdline + child.environ), `${run.args.join(' ')}: ${child.cmdline}`).toEqual([])
    }
  })

  it('no output of any command, text or --json, holds a password', () => {
    expect(runs.length).toBe(12)
    for (const run of runs) expect(leaks(run.stdout + run.stderr), run.args.join(' ')).toEqual([])
  })
})

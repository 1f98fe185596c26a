import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {AuthRotateResult} from '../../src/commands/auth/rotate.js'
import type {CheckResult} from '../../src/commands/check.js'
import {json, type CliResult} from '../support/cli.js'
import {missingKeys, redisCliCheckPasses, type RedisUser, SELECTOR, statusNodes, writeKeys} from './cluster-data.js'
import {type E2eSandbox, pods, redisCli, secretValue, startE2eSandbox, waitFor} from './e2e-support.js'
import {startTraffic} from './traffic-support.js'

/**
 * A cluster made with `cluster create --acl`: redisctl works as its own admin user with no flag, applications as a
 * user without admin commands, replicas as a user of their own; passwords rotate with no client cut off.
 */

const KEYS = 5000
const USERS = ['redisctl-admin', 'replication', 'app'] as const
const userSecret = (user: string): string => `redis-cluster-user-${user}`
/** Every password the test has seen in a Secret, rotated ones included: none may appear in the CLI's output. */
const seen = new Set<string>()

async function user(sandbox: E2eSandbox, name: string): Promise<RedisUser> {
  const found = {username: await secretValue(sandbox, userSecret(name), 'username'), password: await secretValue(sandbox, userSecret(name), 'password')}
  seen.add(found.password)
  return found
}

/** A replica in sync: its link up, no sync running, its offset at its master's (status's SYNC column). */
const inSync = (n: {role?: string; sync?: {state: string}}): boolean => n.role !== 'replica' || n.sync?.state === 'in-sync'

/** redis-cli on one pod as `as`, the password through REDISCLI_AUTH: never in argv. */
const cliAs = (host: string, as: RedisUser | undefined, args: string[]): Promise<CliResult> =>
  redisCli(['-h', host, ...(as ? ['--user', as.username] : []), ...args], as ? {REDISCLI_AUTH: as.password} : {})

describe('an ACL cluster: cluster create --acl', () => {
  let sandbox: E2eSandbox
  let created: CliResult
  const outputs: CliResult[] = []
  const cli = async (args: string[], timeoutMs = 150_000): Promise<CliResult> => {
    const result = await sandbox.cli(args, {timeoutMs})
    outputs.push(result)
    return result
  }

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 51})
    created = await cli(['cluster', 'create', '--acl', '--json'])
    if (created.code !== 0) throw new Error(`create --acl failed: ${created.stdout}${created.stderr}`)
    await writeKeys(sandbox, KEYS, await user(sandbox, 'app'))
  }, 150_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('keeps each user\'s generated password in a Secret of its own, and the pods\' auth include holds only hashes but masterauth', async () => {
    const passwords = await Promise.all(USERS.map(async (u) => (await user(sandbox, u)).password))
    expect(new Set(passwords).size).toBe(3)
    for (const p of passwords) expect(p.length).toBeGreaterThanOrEqual(32)
    const include = await secretValue(sandbox, 'redis-cluster-auth-conf', 'auth.conf')
    expect(include).toContain('user default off')
    expect(include).toContain('masteruser replication')
    const [admin, replication, app] = passwords
    expect(include).not.toContain(admin)
    expect(include).not.toContain(app)
    expect(include).toContain(`masterauth "${replication}"`)
  })

  it('needs no flag afterwards: status and check authenticate as redisctl-admin, every replica is in sync, check finds nothing', async () => {
    const nodes = await statusNodes(sandbox)
    expect(nodes.filter((n) => !inSync(n))).toEqual([])
    const check = await cli(['check', '--json'])
    expect(check.code, check.stdout + check.stderr).toBe(0)
    expect(json<CheckResult>(check).findings).toEqual([])
  })

  it('passes redis-cli --user redisctl-admin --cluster check, the password given through REDISCLI_AUTH', async () => {
    expect(await redisCliCheckPasses(sandbox, SELECTOR, await user(sandbox, 'redisctl-admin'))).toBe(true)
  })

  it('lets the app user read and write but not run CONFIG, FLUSHALL or CLUSTER FORGET', async () => {
    const app = await user(sandbox, 'app')
    const [first, second] = await pods(sandbox, SELECTOR)
    expect((await cliAs(first.ip!, app, ['-c', 'SET', 'acl:probe', '1'])).stdout.trim()).toBe('OK')
    const forgetId = (await cliAs(second.ip!, await user(sandbox, 'redisctl-admin'), ['CLUSTER', 'MYID'])).stdout.trim()
    for (const command of [['CONFIG', 'GET', 'maxmemory'], ['FLUSHALL'], ['CLUSTER', 'FORGET', forgetId]]) {
      expect((await cliAs(first.ip!, app, command)).stdout, command.join(' ')).toMatch(/NOPERM/)
    }
    expect(await missingKeys(sandbox, KEYS, app)).toBe(0)
  })

  it('refuses the default user, with no password and with another user\'s', async () => {
    const [first] = await pods(sandbox, SELECTOR)
    expect((await cliAs(first.ip!, undefined, ['PING'])).stdout).toContain('NOAUTH')
    const withAdminPassword = await redisCli(['-h', first.ip!, 'PING'], {REDISCLI_AUTH: (await user(sandbox, 'redisctl-admin')).password})
    expect(withAdminPassword.stdout + withAdminPassword.stderr).toMatch(/WRONGPASS|NOAUTH/)
  })

  it('scales out to 4 masters and back to 3 with every key kept; redis-cli --cluster check passes', async () => {
    const out = await cli(['scale', '--masters', '4', '--json'])
    expect(out.code, out.stdout + out.stderr).toBe(0)
    expect(json<{keysMoved: number}>(out).keysMoved).toBeGreaterThan(0)
    expect((await statusNodes(sandbox)).filter((n) => n.role === 'master')).toHaveLength(4)
    const back = await cli(['scale', '--masters', '3', '--yes', '--json'])
    expect(back.code, back.stdout + back.stderr).toBe(0)
    expect((await statusNodes(sandbox)).filter((n) => n.role === 'master')).toHaveLength(3)
    expect(await missingKeys(sandbox, KEYS, await user(sandbox, 'app'))).toBe(0)
    expect(await redisCliCheckPasses(sandbox, SELECTOR, await user(sandbox, 'redisctl-admin'))).toBe(true)
  }, 400_000)

  it('after every pod was deleted at once, repair re-introduces them as redisctl-admin; every key kept, the users as they were', async () => {
    const before = (await pods(sandbox, SELECTOR)).map((p) => p.ip!)
    expect((await sandbox.kubectl(['delete', 'pods', '-l', SELECTOR, '--wait=false'])).code).toBe(0)
    await waitFor('6 new pods with new IPs', async () => {
      const now = await pods(sandbox, SELECTOR)
      return now.length === 6 && now.every((p) => p.ready && p.ip && !before.includes(p.ip))
    }, 120_000)
    const repaired = await cli(['repair', '--json'])
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
    await waitFor('check to exit 0', async () => (await cli(['check'])).code === 0, 120_000)
    const app = await user(sandbox, 'app')
    expect(await missingKeys(sandbox, KEYS, app)).toBe(0)
    const [first] = await pods(sandbox, SELECTOR)
    expect((await cliAs(first.ip!, app, ['CONFIG', 'GET', 'maxmemory'])).stdout).toMatch(/NOPERM/)
    expect((await cliAs(first.ip!, undefined, ['PING'])).stdout).toContain('NOAUTH')
  }, 400_000)

  it('rotates the app password under a writer that moves to the new one mid-way: no acknowledged write lost, no client error; --finish then refuses the old one', async () => {
    const old = await user(sandbox, 'app')
    const seeds = (await pods(sandbox, SELECTOR)).map((p) => ({host: p.ip!, port: 6379}))
    // As the app user, who may not run INFO (ioredis's ready check).
    const traffic = startTraffic(seeds, {connection: {redisOptions: {...old, enableReadyCheck: false}}, maxMs: 120_000, maxOps: 40_000})
    const rotated = await cli(['auth', 'rotate', '--json'])
    expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0)
    expect(json<AuthRotateResult>(rotated)).toMatchObject({mode: 'acl', user: 'app', phase: 'rotate', secret: userSecret('app')})
    const again = await cli(['auth', 'rotate', '--json'])
    expect(again.code, 'a second rotation before --finish is refused').toBe(4)
    const fresh = await user(sandbox, 'app')
    expect(fresh.password).not.toBe(old.password)
    expect(await secretValue(sandbox, userSecret('app'), 'previous-password')).toBe(old.password)
    await traffic.reconnect(fresh)
    const finished = await cli(['auth', 'rotate', '--finish', '--json'])
    const report = await traffic.stop()
    console.log(`traffic during auth rotate: ${report.ops} ops in ${report.seconds.toFixed(1)} s, ${report.writesAcknowledged} writes acknowledged, ${report.errors} errors ${JSON.stringify(report.errorKinds)}, ${report.lost.length} lost`)

    expect(finished.code, finished.stdout + finished.stderr).toBe(0)
    expect(json<AuthRotateResult>(finished)).toMatchObject({phase: 'finish', nothingToDo: false})
    expect(report.stoppedBy).toBe('caller')
    expect(report.writesAcknowledged).toBeGreaterThan(100)
    expect(report.errors).toBe(0)
    expect(report.lost).toEqual([])
    const [first] = await pods(sandbox, SELECTOR)
    expect((await cliAs(first.ip!, old, ['PING'])).stdout + '').not.toContain('PONG')
    expect((await cliAs(first.ip!, fresh, ['PING'])).stdout.trim()).toBe('PONG')
    expect(await secretValue(sandbox, userSecret('app'), 'previous-password')).toBe('')
  }, 300_000)

  it('rotates the replication user\'s password: replicas keep syncing, also a replica restarted meanwhile', async () => {
    const rotated = await cli(['auth', 'rotate', '--user', 'replication', '--json'])
    expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0)
    const finished = await cli(['auth', 'rotate', '--user', 'replication', '--finish', '--json'])
    expect(finished.code, finished.stdout + finished.stderr).toBe(0)
    const replica = (await statusNodes(sandbox)).find((n) => n.role === 'replica')!
    expect((await sandbox.kubectl(['delete', 'pod', replica.pod])).code).toBe(0)
    const deadline = Date.now() + 180_000
    let synced = false
    let last = ''
    while (!synced && Date.now() < deadline) {
      const status = await sandbox.cli(['status', '--json'])
      const nodes = status.code === 0 ? json<{nodes: Array<{pod: string; role?: string; sync?: {state: string}}>}>(status).nodes : []
      synced = nodes.length === 6 && nodes.some((n) => n.pod === replica.pod && n.role === 'replica') && nodes.every(inSync)
      last = status.code === 0 ? JSON.stringify(nodes.map((n) => [n.pod, n.role, n.sync?.state])) : status.stdout + status.stderr
      if (!synced) await new Promise((r) => setTimeout(r, 500))
    }
    expect(synced, `${replica.pod} deleted; last status: ${last}`).toBe(true)
  }, 300_000)

  it('auth rotate --user naming no user of the cluster is a usage error (2) and changes no Secret', async () => {
    const before = await Promise.all(USERS.map(async (u) => (await user(sandbox, u)).password))
    const refused = await cli(['auth', 'rotate', '--user', 'nobody', '--json'])
    expect(refused.code, refused.stdout).toBe(2)
    expect(json<{error: {message: string}}>(refused).error.message).toContain('redisctl-admin, replication, app')
    expect(await Promise.all(USERS.map(async (u) => (await user(sandbox, u)).password))).toEqual(before)
  })

  it('prints no password in any output or --json of the commands it ran', async () => {
    await Promise.all(USERS.map((u) => user(sandbox, u)))
    expect(seen.size).toBeGreaterThanOrEqual(5)
    for (const out of outputs) {
      for (const p of seen) expect(out.stdout + out.stderr).not.toContain(p)
    }
  })
})

describe('tearing an ACL cluster down', () => {
  it('deletes the users\' Secrets and the auth include with the rest', async () => {
    const sandbox = await startE2eSandbox({podIpOctet: 51})
    try {
      const created = await sandbox.cli(['cluster', 'create', '--acl', '--masters', '3', '--replicas-per-master', '0', '--json'], {timeoutMs: 150_000})
      expect(created.code, created.stdout + created.stderr).toBe(0)
      expect((await sandbox.kubectl(['get', 'secrets', '-o', 'name'])).stdout.split('\n').filter(Boolean)).toHaveLength(4)
      const down = await sandbox.cli(['teardown', '--with-pvcs', '--yes', '--json'], {timeoutMs: 150_000})
      expect(down.code, down.stdout + down.stderr).toBe(0)
      expect((await sandbox.kubectl(['get', 'secrets', '-o', 'name'])).stdout.trim()).toBe('')
    } finally {
      await sandbox.down()
    }
  }, 300_000)
})

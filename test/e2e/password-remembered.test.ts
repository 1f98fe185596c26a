import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {AuthRotateResult} from '../../src/commands/auth/rotate.js'
import type {CheckResult} from '../../src/commands/check.js'
import type {CreateResult} from '../../src/commands/cluster/create.js'
import type {ScaleResult} from '../../src/commands/scale.js'
import type {StatusResult} from '../../src/commands/status.js'
import {json, type CliResult} from '../support/cli.js'
import {missingKeys, SELECTOR, writeKeys, type RedisUser} from './cluster-data.js'
import {pods, secretValue, startE2eSandbox, type E2eSandbox} from './e2e-support.js'

/**
 * A cluster made with `cluster create --password-secret s` names `s` on its pods: every later command, `auth rotate`
 * included, authenticates with it given no flag and no REDISCTL_PASSWORD. (A flag given winning, and pods that name
 * no Secret being refused, are in bad-input.test.ts.)
 */

const PASSWORD = `pw-${process.pid}-${Math.random().toString(36).slice(2)}`
const KEYS = 20_000
/** No REDISCTL_PASSWORD, whatever the environment the tests run in has. */
const NO_PASSWORD = {env: {REDISCTL_PASSWORD: undefined}, timeoutMs: 240_000}

const errorOf = (r: CliResult): {kind: string; message: string; suggestions: string[]; exitCode: number} =>
  json<{error: {kind: string; message: string; suggestions: string[]; exitCode: number}}>(r).error

describe('a cluster made with --password-secret: later commands need no flag', () => {
  let sandbox: E2eSandbox
  /** How a client logs in: requirepass is the default user's password, the one the Secret holds now. */
  let user: RedisUser = {username: 'default', password: PASSWORD}
  const cli = (args: string[]): Promise<CliResult> => sandbox.cli([...args, '--json'], NO_PASSWORD)

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 49})
    // Through apply: `kubectl create secret` posts protobuf, which the sandbox refuses.
    const applied = await sandbox.kubectl(['apply', '-f', '-'], `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: "${PASSWORD}"}\n`)
    if (applied.code !== 0) throw new Error(applied.stderr)
    const created = await cli(['cluster', 'create', '--password-secret', 's'])
    if (created.code !== 0) throw new Error(`create failed: ${created.stdout}${created.stderr}`)
    await writeKeys(sandbox, KEYS, user)
  }, 300_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('every pod names the Secret, and nothing on them holds the password', async () => {
    const got = await sandbox.kubectl(['get', 'pods', '-l', SELECTOR, '-o', 'json'])
    const items = (JSON.parse(got.stdout) as {items: Array<{metadata: {annotations?: Record<string, string>}}>}).items
    expect(items.map((p) => p.metadata.annotations?.['redisctl.io/password-secret'])).toEqual(Array(6).fill('s'))
    expect(got.stdout).not.toContain(PASSWORD)
  })

  it('status shows every node and every key, exit 0', async () => {
    const status = await cli(['status'])
    expect(status.code, status.stdout + status.stderr).toBe(0)
    const {nodes} = json<StatusResult>(status)
    expect(nodes.filter((n) => n.reachable)).toHaveLength(6)
    expect(nodes.filter((n) => n.role === 'master').reduce((sum, n) => sum + (n.keys ?? 0), 0)).toBe(KEYS)
  })

  it('check finds nothing wrong, exit 0', async () => {
    const check = await cli(['check'])
    expect(check.code, check.stdout + check.stderr).toBe(0)
    expect(json<CheckResult>(check)).toMatchObject({healthy: true, errors: 0})
  })

  it('scale --masters 4 scales out with every key kept', async () => {
    const scaled = await cli(['scale', '--masters', '4', '--yes'])
    expect(scaled.code, scaled.stdout + scaled.stderr).toBe(0)
    expect(json<ScaleResult>(scaled).masters).toHaveLength(4)
    expect(await pods(sandbox, SELECTOR)).toHaveLength(8)
    expect(await missingKeys(sandbox, KEYS, user)).toBe(0)
  }, 300_000)

  it('cluster create run again takes the Secret the pods name and changes nothing', async () => {
    const again = await cli(['cluster', 'create', '--masters', '4'])
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(json<CreateResult>(again)).toMatchObject({alreadyFormed: true, changes: 0})
    expect(json<CreateResult>(again).applied.every((o) => o.action === 'unchanged')).toBe(true)
  })

  it('cluster create run again with another --password-secret refuses (4), naming both Secrets', async () => {
    const other = await sandbox.kubectl(['apply', '-f', '-'], `apiVersion: v1\nkind: Secret\nmetadata: {name: copy}\nstringData: {password: "${PASSWORD}"}\n`)
    expect(other.code, other.stderr).toBe(0)
    const refused = await cli(['cluster', 'create', '--masters', '4', '--password-secret', 'copy'])
    expect(refused.code, refused.stdout + refused.stderr).toBe(4)
    expect(errorOf(refused).message).toContain('--password-secret copy (the pods name the Secret s')
    expect(refused.stdout).not.toContain(PASSWORD)
  })

  it('auth rotate and --finish change the password in the Secret the pods name; commands after them need no flag, and every key is there', async () => {
    const rotated = await cli(['auth', 'rotate'])
    expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0)
    expect(json<AuthRotateResult>(rotated)).toMatchObject({mode: 'password', user: 'default', secret: 's', warnings: []})
    const finished = await cli(['auth', 'rotate', '--finish'])
    expect(finished.code, finished.stdout + finished.stderr).toBe(0)
    const password = await secretValue(sandbox, 's', 'password')
    expect(password).not.toBe(PASSWORD)
    expect(rotated.stdout + finished.stdout).not.toContain(password)
    user = {username: 'default', password}
    const check = await cli(['check'])
    expect(check.code, check.stdout + check.stderr).toBe(0)
    expect(await missingKeys(sandbox, KEYS, user)).toBe(0)
  }, 300_000)

  it('with the Secret the pods name deleted, refuses as not found (3), naming it and how to give a password', async () => {
    const deleted = await sandbox.kubectl(['delete', 'secret', 's'])
    expect(deleted.code, deleted.stderr).toBe(0)
    const refused = await cli(['status'])
    expect(refused.code, refused.stdout + refused.stderr).toBe(3)
    expect(errorOf(refused)).toMatchObject({kind: 'notFound', message: expect.stringContaining('The pods name the Secret "s"')})
    expect(errorOf(refused).suggestions.join(' ')).toContain('--password-secret')
  })
})

import {existsSync} from 'node:fs'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CliResult} from '../support/cli.js'
import {SELECTOR} from './cluster-data.js'
import {freePort, redisCli, startE2eSandbox, type E2eSandbox} from './e2e-support.js'

/**
 * Bad input to every command that talks to a cluster: each is refused with one clear message, the exit code
 * docs/errors.md documents, under --json the shape {"error": {kind, message, suggestions, exitCode}}, and
 * nothing in either cluster changes (pods, StatefulSets, PVCs, every node's role, config epoch and slots).
 */

const PASSWORD = `pw-${process.pid}-${Math.random().toString(36).slice(2)}`
const WRONG_PASSWORD = 'not-the-password'

/** A 3x1 cluster without a password, and `sec`: 3x0 behind a password from the Secret `s`, which its pods name. */
const OPEN = 'redis-cluster'
const SECURED = 'sec'

/** Each command that talks to a cluster, with arguments that would change it if the bad input were not caught. */
const COMMANDS: Record<string, (name: string) => string[]> = {
  'status': (name) => ['status', '--name', name],
  'check': (name) => ['check', '--name', name],
  'scale out': (name) => ['scale', '--name', name, '--masters', '4'],
  'scale in': (name) => ['scale', '--name', name, '--masters', '3', '--replicas-per-master', '0', '--yes'],
  'slots rebalance': (name) => ['slots', 'rebalance', '--name', name, '--weight', `${name}-0=0`],
  'slots reshard': (name) => ['slots', 'reshard', '--name', name, '--from', `${name}-0`, '--to-all'],
  'node del': (name) => ['node', 'del', '--name', name, `${name}-4`],
  'node del-replica': (name) => ['node', 'del-replica', '--name', name, `${name}-5`],
  'teardown': (name) => ['teardown', '--name', name, '--with-pvcs', '--yes'],
}
const CLUSTER_COMMANDS = Object.keys(COMMANDS)

interface Refusal {
  /** What the user did, as the test names it. */
  input: string
  command: string
  args: string[]
  env?: Record<string, string | undefined>
  code: number
  kind: string
  /** The phrase of the message that says what was wrong. */
  says: string
}

interface JsonError {kind: string; message: string; suggestions: string[]; exitCode: number}

describe('bad input to every command: a clear message, the documented exit code, nothing changed', () => {
  let sandbox: E2eSandbox
  let closedKubeconfig: string
  /** The snapshot taken after the previous case: nothing runs between cases, so it is this case's "before". */
  let previous: string[] | undefined

  /** The state before a case; a case that fails leaves none, so the next one takes its own. */
  async function beforeCase(): Promise<string[]> {
    const before = previous ?? await snapshot()
    previous = undefined
    return before
  }

  async function unchangedSince(before: string[]): Promise<void> {
    previous = await snapshot()
    expect(previous).toEqual(before)
  }

  /** What any command could have changed: Kubernetes objects and each cluster's nodes as CLUSTER NODES tells them. */
  async function snapshot(): Promise<string[]> {
    const got = await sandbox.kubectl(['get', 'statefulsets,pods,pvc', '-o', 'json'])
    expect(got.code, got.stderr).toBe(0)
    const items = (JSON.parse(got.stdout) as {items: Array<{kind: string; metadata: {name: string; uid: string}; spec?: {replicas?: number}; status?: {podIP?: string}}>}).items
    const podOfIp = new Map(items.filter((i) => i.kind === 'Pod').map((p) => [p.status?.podIP, p.metadata.name]))
    const objects = items.map((i) => `${i.kind}/${i.metadata.name} ${i.metadata.uid}${i.kind === 'StatefulSet' ? ` replicas=${i.spec?.replicas}` : ''}`)
    const nodes = await Promise.all([[OPEN, {}], [SECURED, {REDISCLI_AUTH: PASSWORD}]].map(async ([name, env]) => {
      const first = items.find((i) => i.kind === 'Pod' && i.metadata.name === `${name as string}-0`)!
      const reply = await redisCli(['-h', first.status!.podIP!, 'CLUSTER', 'NODES'], env as Record<string, string>)
      const idToPod = new Map(reply.stdout.trim().split('\n').map((l) => l.split(' ')).map((f) => [f[0], podOfIp.get(f[1].split(':')[0])]))
      return reply.stdout.trim().split('\n').map((line) => {
        const [id, , flags, master, , , epoch, , ...slots] = line.split(' ')
        const count = slots.filter((s) => !s.startsWith('[')).reduce((n, r) => n + (r.includes('-') ? Number(r.split('-')[1]) - Number(r.split('-')[0]) + 1 : 1), 0)
        return `${idToPod.get(id)} ${flags.replace('myself,', '')} of=${idToPod.get(master) ?? '-'} epoch=${epoch} slots=${count}`
      })
    }))
    return [...objects, ...nodes.flat()].sort()
  }

  /** Runs the command with --json and holds it to the contract. */
  async function expectRefused(refusal: Refusal): Promise<JsonError> {
    const before = await beforeCase()
    const result = await sandbox.cli([...refusal.args, '--json'], {env: refusal.env, timeoutMs: 60_000})
    const error = jsonError(result)
    expect(error, result.stdout).toEqual({kind: refusal.kind, message: expect.stringContaining(refusal.says), suggestions: expect.any(Array), exitCode: refusal.code})
    expect(result.code).toBe(refusal.code)
    for (const s of error.suggestions) expect(s).toEqual(expect.any(String))
    await unchangedSince(before)
    return error
  }

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 254})
    const open = await sandbox.cli(['cluster', 'create', '--json'])
    if (open.code !== 0) throw new Error(`create failed: ${open.stdout}${open.stderr}`)
    // Through apply: the three Secrets in one manifest.
    const secrets = `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: "${PASSWORD}"}\n---\n` +
      `apiVersion: v1\nkind: Secret\nmetadata: {name: wrong}\nstringData: {password: "${WRONG_PASSWORD}"}\n---\n` +
      'apiVersion: v1\nkind: Secret\nmetadata: {name: nokey}\nstringData: {other: "x"}\n'
    const applied = await sandbox.kubectl(['apply', '-f', '-'], secrets)
    if (applied.code !== 0) throw new Error(applied.stderr)
    const secured = await sandbox.cli(['cluster', 'create', '--name', SECURED, '--password-secret', 's', '--replicas-per-master', '0', '--json'])
    if (secured.code !== 0) throw new Error(`create --password-secret failed: ${secured.stdout}${secured.stderr}`)
    // An API server that is down: its kubeconfig written as kubectl takes it, plain http and no TLS settings.
    closedKubeconfig = join(sandbox.dir, 'closed-kubeconfig')
    await writeFile(closedKubeconfig, [
      'apiVersion: v1', 'kind: Config', `clusters: [{name: down, cluster: {server: "http://127.0.0.1:${await freePort()}"}}]`,
      'contexts: [{name: down, context: {cluster: down, user: nobody}}]', 'current-context: down', 'users: [{name: nobody, user: {}}]', '',
    ].join('\n'))
  }, 120_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  describe('an unknown flag is a usage error (2) that points at --help', () => {
    const commands = [...CLUSTER_COMMANDS, 'cluster create', 'sandbox up', 'sandbox down', 'sandbox status']
    it.each(commands)('%s --no-such-flag', async (command) => {
      const args = COMMANDS[command]?.(OPEN) ?? command.split(' ')
      const error = await expectRefused({input: 'unknown flag', command, args: [...args, '--no-such-flag'], code: 2, kind: 'usage', says: 'Nonexistent flag: --no-such-flag'})
      expect(error.suggestions.join(' ')).toContain(`redisctl ${command.replace(/ (out|in)$/, '')} --help`)
    })
  })

  describe('a namespace that does not exist (-n nope) is not found (3) and names it', () => {
    it.each(CLUSTER_COMMANDS)('%s -n nope', async (command) => {
      await expectRefused({input: '-n nope', command, args: [...COMMANDS[command](OPEN), '-n', 'nope'], code: 3, kind: 'notFound', says: 'The namespace "nope" does not exist'})
    })
  })

  describe('a context the kubeconfig lacks (--context nope) is not found (3) and lists the known ones', () => {
    it.each(CLUSTER_COMMANDS)('%s --context nope', async (command) => {
      const error = await expectRefused({input: '--context nope', command, args: [...COMMANDS[command](OPEN), '--context', 'nope'], code: 3, kind: 'notFound', says: 'The context "nope" is not in the kubeconfig'})
      expect(error.suggestions.join(' ')).toContain('redisctl-sandbox')
    })
  })

  describe('a kubeconfig that is missing or is no kubeconfig, named by KUBECONFIG or --kubeconfig, is not found (3) and names the file', () => {
    it.each([
      {input: 'KUBECONFIG=/nonexistent', env: {KUBECONFIG: '/nonexistent'}, args: [], says: 'The kubeconfig /nonexistent (from $KUBECONFIG) does not exist'},
      {input: 'KUBECONFIG=/dev/null', env: {KUBECONFIG: '/dev/null'}, args: [], says: 'The kubeconfig /dev/null (from $KUBECONFIG) is not a kubeconfig redisctl can read'},
      {input: '--kubeconfig /dev/null', env: {}, args: ['--kubeconfig', '/dev/null'], says: 'The kubeconfig file /dev/null is not a kubeconfig redisctl can read'},
    ])('$input', async ({input, env, args, says}) => {
      await expectRefused({input, command: 'scale out', args: [...COMMANDS['scale out'](OPEN), ...args], env, code: 3, kind: 'notFound', says})
    })
  })

  describe('a selector that matches no pods (-l app=nope) is not found (3) and names the selector', () => {
    it.each([...CLUSTER_COMMANDS.filter((c) => c !== 'teardown'), 'cluster create'])('%s -l app=nope', async (command) => {
      const args = command === 'cluster create' ? ['cluster', 'create', '--timeout', '10'] : COMMANDS[command](OPEN)
      await expectRefused({input: '-l app=nope', command, args: [...args, '-l', 'app=nope'], code: 3, kind: 'notFound', says: 'No pods match the selector "app=nope"'})
    })

    it('teardown -l app=nope finds nothing to delete, says so and exits 0 (tearing down what is gone succeeds)', async () => {
      const before = await beforeCase()
      const result = await sandbox.cli(['teardown', '-l', 'app=nope', '--with-pvcs', '--yes', '--json'])
      expect(result.code, result.stdout).toBe(0)
      expect(JSON.parse(result.stdout)).toMatchObject({nothingToDo: true, deleted: []})
      await unchangedSince(before)
    })
  })

  describe('an API server that is down (kubeconfig at a closed port) is kubeUnreachable (6), names the server and what failed', () => {
    it.each(CLUSTER_COMMANDS)('%s', async (command) => {
      const error = await expectRefused({input: 'API down', command, args: [...COMMANDS[command](OPEN), '--kubeconfig', closedKubeconfig], code: 6, kind: 'kubeUnreachable', says: 'is unreachable'})
      expect(error.message).toMatch(/http:\/\/127\.0\.0\.1:\d+ is unreachable while .*\(ECONNREFUSED\)/)
      expect(error.suggestions.join(' ')).toContain('kubectl cluster-info')
    })
  })

  describe('Redis refusing the password is authFailed (8), whatever the command, and the password is never printed', () => {
    it.each(CLUSTER_COMMANDS.filter((c) => c !== 'teardown'))('%s with a wrong REDISCTL_PASSWORD, which wins over the Secret the pods name', async (command) => {
      const error = await expectRefused({input: 'wrong password', command, args: COMMANDS[command](SECURED), env: {REDISCTL_PASSWORD: WRONG_PASSWORD}, code: 8, kind: 'authFailed', says: 'refused the password'})
      expect(JSON.stringify(error)).not.toContain(WRONG_PASSWORD)
      expect(error.message).toMatch(new RegExp(`^${SECURED}-\\d+ \\(\\S+\\) refused the password, which came from REDISCTL_PASSWORD`))
      expect(error.suggestions.join(' ')).toContain('--password-secret')
    })

    it.each(['status', 'scale out', 'node del-replica'])('%s with a wrong --password-secret, which wins over the Secret the pods name', async (command) => {
      const error = await expectRefused({input: 'wrong Secret', command, args: [...COMMANDS[command](SECURED), '--password-secret', 'wrong'], code: 8, kind: 'authFailed', says: 'refused the password, which came from the Secret "wrong" (--password-secret)'})
      expect(JSON.stringify(error)).not.toContain(WRONG_PASSWORD)
    })

    describe('on pods that name no Secret (as pods someone else deployed), with no password at all', () => {
      const annotate = async (change: string): Promise<void> => {
        const done = await sandbox.kubectl(['annotate', 'pods', '-l', `app.kubernetes.io/instance=${SECURED}`, change])
        if (done.code !== 0) throw new Error(done.stderr)
      }
      beforeAll(() => annotate('redisctl.io/password-secret-'))
      afterAll(() => annotate('redisctl.io/password-secret=s'))

      it.each(['status', 'scale out', 'node del-replica'])('%s says one is required', async (command) => {
        await expectRefused({input: 'no password', command, args: COMMANDS[command](SECURED), env: {REDISCTL_PASSWORD: undefined}, code: 8, kind: 'authFailed', says: 'requires a password, and none was given'})
      })
    })

    it('--password-secret naming a Secret that does not exist is not found (3), and the hint keeps the password off the command line', async () => {
      const error = await expectRefused({input: 'missing Secret', command: 'status', args: [...COMMANDS.status(SECURED), '--password-secret', 'missing'], code: 3, kind: 'notFound', says: 'The Secret "missing" does not exist'})
      expect(error.suggestions.join(' ')).toContain('--from-file=password=/dev/stdin')
      expect(error.suggestions.join(' ')).not.toContain('--from-literal')
    })

    it('--password-secret naming a Secret without the key "password" is a usage error (2)', async () => {
      await expectRefused({input: 'Secret without key', command: 'scale out', args: [...COMMANDS['scale out'](SECURED), '--password-secret', 'nokey'], code: 2, kind: 'usage', says: 'has no key "password"'})
    })
  })

  describe('counts and values that do not fit are usage errors (2), or preconditions (4) when the cluster says no', () => {
    const cases: Array<Omit<Refusal, 'input' | 'command'> & {input: string}> = [
      {input: 'a mistyped command (staus)', args: ['staus'], code: 2, kind: 'usage', says: 'redisctl staus is not a command. Did you mean redisctl status?'},
      {input: 'a mistyped command of a topic (sandbox stats)', args: ['sandbox', 'stats'], code: 2, kind: 'usage', says: 'Did you mean redisctl sandbox status?'},
      {input: 'scale --masters 2: fewer than 3 masters', args: ['scale', '--masters', '2'], code: 2, kind: 'usage', says: 'at least 3 masters'},
      {input: 'scale --masters 4 --replicas-per-master 0: more masters on fewer pods', args: ['scale', '--masters', '4', '--replicas-per-master', '0'], code: 2, kind: 'usage', says: 'scale out of masters and a scale in of pods at once'},
      {input: 'scale --replicas-per-master -1', args: ['scale', '--masters', '3', '--replicas-per-master', '-1'], code: 2, kind: 'usage', says: 'greater than or equal to 0'},
      {input: 'scale --masters abc', args: ['scale', '--masters', 'abc'], code: 2, kind: 'usage', says: 'Expected an integer'},
      {input: 'scale without --masters or --replicas-per-master', args: ['scale'], code: 2, kind: 'usage', says: 'Say what to scale to'},
      {input: 'scale --timeout 0', args: ['scale', '--masters', '4', '--timeout', '0'], code: 2, kind: 'usage', says: 'not a duration longer than zero'},
      {input: 'cluster create --masters 4 over the 6 pods of a 3x1 StatefulSet', args: ['cluster', 'create', '--masters', '4'], code: 4, kind: 'precondition', says: 'already exists with 6 pods'},
      {input: 'cluster create --selector adopting 6 pods as 4 masters with 1 replica each', args: ['cluster', 'create', '--selector', SELECTOR, '--masters', '4', '--timeout', '10'], code: 2, kind: 'usage', says: '6 pods match, but 4 masters with 1 replica each need 8'},
      {input: 'slots reshard --slots 0', args: ['slots', 'reshard', '--from', 'redis-cluster-0', '--to-all', '--slots', '0'], code: 2, kind: 'usage', says: 'greater than or equal to 1'},
      {input: 'slots reshard with both --to and --to-all', args: ['slots', 'reshard', '--from', 'redis-cluster-0', '--to', 'redis-cluster-1', '--to-all'], code: 2, kind: 'usage', says: '--to'},
      {input: 'slots reshard --from X --to X, refused before any kubeconfig is read', args: ['slots', 'reshard', '--from', 'redis-cluster-0', '--to', 'redis-cluster-0', '--kubeconfig', '/nonexistent'], code: 2, kind: 'usage', says: '--from and --to name the same master'},
      {input: 'slots reshard --to a replica', args: ['slots', 'reshard', '--from', 'redis-cluster-0', '--to', 'redis-cluster-5'], code: 2, kind: 'usage', says: 'only masters own slots'},
      {input: 'slots rebalance --weight naming a pod that is not a master', args: ['slots', 'rebalance', '--weight', 'redis-cluster-5=2'], code: 2, kind: 'usage', says: 'not a master of this cluster'},
      {input: 'slots rebalance --weight without =', args: ['slots', 'rebalance', '--weight', 'redis-cluster-0'], code: 2, kind: 'usage', says: 'POD=NUMBER'},
      {input: 'node del without a pod', args: ['node', 'del'], code: 2, kind: 'usage', says: 'Missing 1 required arg'},
      {input: 'sandbox up --pod-ip-range that is no CIDR', args: ['sandbox', 'up', '--dir', '/nonexistent/redisctl-bad-input', '--pod-ip-range', 'bogus'], code: 2, kind: 'usage', says: 'is not an IPv4 CIDR'},
    ]
    it.each(cases)('$input', async (c) => {
      await expectRefused({...c, command: c.args.slice(0, 2).join(' ')})
    })

    it('sandbox up refused for its --pod-ip-range leaves no folder behind', () => {
      expect(existsSync('/nonexistent/redisctl-bad-input')).toBe(false)
    })
  })

  describe('without --json the same refusal goes to stderr as the message and what to do, with the same exit code', () => {
    const cases: Array<{input: string; args: string[]; env?: Record<string, string>; code: number; says: string; todo: string}> = [
      {input: 'scale -n nope', args: ['scale', '--masters', '4', '-n', 'nope'], code: 3, says: 'The namespace "nope" does not exist', todo: 'kubectl get namespaces'},
      {input: 'node del with a wrong password', args: COMMANDS['node del'](SECURED), env: {REDISCTL_PASSWORD: WRONG_PASSWORD}, code: 8, says: 'refused the password', todo: '--password-secret'},
      {input: 'slots reshard --to-all --to', args: ['slots', 'reshard', '--from', 'redis-cluster-0', '--to', 'redis-cluster-1', '--to-all'], code: 2, says: '--to cannot also be provided when using --to-all', todo: '--help'},
    ]
    it.each(cases)('$input', async (c) => {
      const before = await beforeCase()
      const result = await sandbox.cli(c.args, {env: c.env})
      expect(result.code, result.stdout + result.stderr).toBe(c.code)
      const stderr = result.stderr.replaceAll(/\s*›\s*/g, ' ')
      expect(stderr).toContain(c.says)
      // Once: the step that failed is named without it (src/cli/renderer.ts StepLogger).
      expect((result.stdout + stderr).split(c.says).length - 1, result.stdout + result.stderr).toBe(1)
      expect(stderr).toContain(c.todo)
      expect(result.stdout).not.toContain('"error"')
      expect(result.stdout + result.stderr).not.toContain(WRONG_PASSWORD)
      await unchangedSince(before)
    })
  })
})

function jsonError(result: CliResult): JsonError {
  let body: {error?: JsonError}
  try {
    body = JSON.parse(result.stdout) as {error?: JsonError}
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`)
  }
  if (!body.error) throw new Error(`no error in the JSON (exit ${result.code}):\n${result.stdout}`)
  return body.error
}

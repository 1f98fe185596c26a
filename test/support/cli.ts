import {spawn, type ChildProcessByStdio} from 'node:child_process'
import {readdir, readFile} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'
import type {Readable} from 'node:stream'
import {fileURLToPath} from 'node:url'

import {Redis} from 'ioredis'

export const CLI = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

interface CliOptions {
  env?: Record<string, string | undefined>
  timeoutMs?: number
}

/** The built CLI in its own process; `env` entries replace the inherited ones, undefined removes one. */
function spawnCli(args: string[], options: CliOptions): {child: ChildProcessByStdio<null, Readable, Readable>; output: CliResult; closed: Promise<NodeJS.Signals | null>} {
  const env: Record<string, string | undefined> = {...process.env, CI: 'true', ...options.env}
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
  const child = spawn(process.execPath, [CLI, ...args], {env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe']})
  const output: CliResult = {code: null, stdout: '', stderr: ''}
  child.stdout.on('data', (d: Buffer) => (output.stdout += d))
  child.stderr.on('data', (d: Buffer) => (output.stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
  const closed = new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (code, signal) => {
    clearTimeout(timer)
    output.code = code
    resolve(signal)
  }))
  return {child, output, closed}
}

/** Runs the built CLI as a user would, in its own process: real argv parsing, real exit codes, real output. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const {output, closed} = spawnCli(args, options)
  await closed
  return output
}

/** A process as /proc shows it: its arguments and environment, NULs turned into spaces and newlines. */
export interface ProcessSeen {
  pid: number
  cmdline: string
  environ: string
}

/**
 * Runs the built CLI like runCli and, while it runs, records its own command lines (it re-executes itself, keeping its
 * pid, when it moves keys) and every process it starts and theirs in turn (polling /proc for descendants of its pid).
 */
export async function runCliWatchingChildren(args: string[], options: CliOptions = {}): Promise<CliResult & {ownCmdlines: string[]; children: ProcessSeen[]}> {
  const {child, output, closed} = spawnCli(args, options)
  const children = new Map<number, ProcessSeen>()
  const ownCmdlines = new Set<string>()
  let ended = false
  void closed.then(() => (ended = true))
  while (!ended) {
    const own = await readFile(`/proc/${child.pid}/cmdline`, 'utf8').catch(() => '')
    if (own) ownCmdlines.add(own.replaceAll('\0', ' '))
    await recordDescendants(child.pid!, children)
    await sleep(20)
  }
  return {...output, ownCmdlines: [...ownCmdlines], children: [...children.values()]}
}

async function recordDescendants(root: number, into: Map<number, ProcessSeen>): Promise<void> {
  const parents = new Map<number, number>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    // The command name in field 2 may hold spaces and parentheses: the parent pid comes after its closing one.
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (ppid) parents.set(Number(entry), ppid)
  }
  const descends = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true
    return false
  }
  for (const pid of parents.keys()) {
    if (into.has(pid) || !descends(pid)) continue
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined)
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => undefined)
    if (cmdline !== undefined && environ !== undefined) into.set(pid, {pid, cmdline: cmdline.replaceAll('\0', ' '), environ: environ.replaceAll('\0', '\n')})
  }
}

export interface SignalledRun extends CliResult {
  /** The output line on which the signal was sent; undefined when the CLI ended before any line matched. */
  at?: string
  /** Whether the CLI ended by SIGKILL sent on a match, rather than on its own first. */
  killed: boolean
}

/** A run SIGKILLed on a match (runCliKilledAt, runCliKilledWithSlotsOpen). */
export type KilledRun = SignalledRun

/**
 * Runs the built CLI and sends it `signal` once, as soon as a line of its output matches `when`, then lets it end:
 * a user's Ctrl-C (SIGINT), a CI runner cancelling a job (SIGTERM), or a node dying or the OOM killer (SIGKILL:
 * nothing runs on the way out).
 */
export async function runCliSignalledAt(args: string[], when: RegExp, signal: 'SIGINT' | 'SIGTERM' | 'SIGKILL', options: CliOptions = {}): Promise<SignalledRun> {
  const {child, output, closed} = spawnCli(args, options)
  let at: string | undefined
  const watch = (): void => {
    if (at !== undefined) return
    at = (output.stdout + output.stderr).split('\n').find((line) => when.test(line))
    if (at !== undefined) child.kill(signal)
  }
  child.stdout.on('data', watch)
  child.stderr.on('data', watch)
  const endedBy = await closed
  return {...output, at, killed: endedBy === 'SIGKILL' && at !== undefined}
}

/** Runs the built CLI and sends it `signal` `afterMs` after it started: for a run that prints nothing while it works (--json). */
export async function runCliSignalledAfter(args: string[], afterMs: number, signal: 'SIGINT' | 'SIGTERM', options: CliOptions = {}): Promise<CliResult> {
  const {child, output, closed} = spawnCli(args, options)
  const timer = setTimeout(() => child.kill(signal), afterMs)
  await closed
  clearTimeout(timer)
  return output
}

/** runCliSignalledAt with SIGKILL. */
export const runCliKilledAt = (args: string[], killWhen: RegExp, options: CliOptions = {}): Promise<KilledRun> =>
  runCliSignalledAt(args, killWhen, 'SIGKILL', options)

/**
 * Runs the built CLI and SIGKILLs it while one of `nodes` shows a slot MIGRATING or IMPORTING. Output lines cannot
 * time that: a move's slots open and close in batches, with moments between moves when none is open. So the CLI is
 * frozen (SIGSTOP) as soon as a poll sees an open slot, and killed only if the slot is still open once the commands
 * it had already sent have landed; otherwise it is let go on and polling resumes.
 */
export async function runCliKilledWithSlotsOpen(args: string[], nodes: ReadonlyArray<{host: string; port: number}>, options: CliOptions = {}): Promise<KilledRun> {
  const {child, output, closed} = spawnCli(args, options)
  let ended = false
  void closed.then(() => (ended = true))
  const clients = nodes.map((n) => new Redis({host: n.host, port: n.port, maxRetriesPerRequest: 1}).on('error', () => undefined))
  let at: string | undefined
  try {
    while (!ended && at === undefined) {
      if (await openSlotMarker(clients)) {
        child.kill('SIGSTOP')
        await sleep(300)
        at = await openSlotMarker(clients)
        child.kill(at === undefined ? 'SIGCONT' : 'SIGKILL')
      }
      await sleep(5)
    }
  } finally {
    for (const client of clients) client.disconnect()
  }
  const signal = await closed
  return {...output, killed: signal === 'SIGKILL' && at !== undefined, at: at && `slot open: ${at}`}
}

/** The first `[slot->-id]` or `[slot-<-id]` in a node's own CLUSTER NODES line; unreachable nodes count as closed. */
async function openSlotMarker(clients: readonly Redis[]): Promise<string | undefined> {
  const views = await Promise.allSettled(clients.map(async (c) => String(await c.call('CLUSTER', 'NODES'))))
  for (const view of views) {
    const myself = view.status === 'fulfilled' ? view.value.split('\n').find((line) => line.includes('myself')) : undefined
    const marker = myself?.match(/\[\d+-[<>]-[0-9a-f]+\]/)
    if (marker) return marker[0]
  }
  return undefined
}

/** Parses --json output, failing with the whole output when it is not JSON. */
export function json<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`)
  }
}

import {spawn, type ChildProcessByStdio} from 'node:child_process'
import type {Readable} from 'node:stream'
import {fileURLToPath} from 'node:url'

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

export interface KilledRun extends CliResult {
  /** Whether the CLI was SIGKILLed on the match, rather than ending on its own first. */
  killed: boolean
  /** The output line that triggered the kill. */
  at?: string
}

/**
 * Runs the built CLI and SIGKILLs it (nothing runs on the way out, as when a node dies or the OOM killer
 * strikes) as soon as a line of its output matches `killWhen`, optionally `delayMs` later.
 */
export async function runCliKilledAt(args: string[], killWhen: RegExp, options: CliOptions & {delayMs?: number} = {}): Promise<KilledRun> {
  const {child, output, closed} = spawnCli(args, options)
  let at: string | undefined
  const watch = (): void => {
    if (at !== undefined) return
    at = (output.stdout + output.stderr).split('\n').find((line) => killWhen.test(line))
    if (at === undefined) return
    if (options.delayMs) setTimeout(() => child.kill('SIGKILL'), options.delayMs)
    else child.kill('SIGKILL')
  }
  child.stdout.on('data', watch)
  child.stderr.on('data', watch)
  const signal = await closed
  return {...output, killed: signal === 'SIGKILL' && at !== undefined, at}
}

/** Parses --json output, failing with the whole output when it is not JSON. */
export function json<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`)
  }
}

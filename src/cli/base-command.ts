import {Command, Errors} from '@oclif/core'

import {BugError, ExitCode, RedisctlError, UsageError} from '../errors.js'
import {unwrappedError} from './format.js'
import {StopOnSignal} from './stop.js'

/**
 * The one place where errors become output and exit codes. Library code throws typed errors;
 * this renders them for people (message + what to do) or, under --json, as {"error": {...}} on stdout.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true
  /** Moves keys between masters: runs with V8's memory flags (src/startup/memory-flags.ts), read from the manifest. */
  static movesKeys = false

  /** Ctrl-C and SIGTERM: workflows and their I/O get `stop.signal`, task lists run under `stop.cleanly`. */
  readonly stop = new StopOnSignal()

  protected override async init(): Promise<void> {
    await super.init()
    this.stop.listen((error) => {
      if (this.jsonEnabled()) this.logJson(errorJson(error))
    })
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.stop.close()
    return super.finally(err)
  }

  /** The shared flags as the workflows take them (TargetOptions): the password Secret's flag, and this command's stop signal. */
  targetOptions<F extends {'password-secret'?: string}>(flags: F): F & {passwordSecret?: string; signal: AbortSignal} {
    return {...flags, passwordSecret: flags['password-secret'], signal: this.stop.signal}
  }

  /**
   * What the Kubernetes session found worth saying once (zones unknown for want of Nodes, permissions unchecked):
   * printed on stderr and added to the result's warnings, so the text and --json say the same.
   */
  withSessionWarnings<T extends {warnings: string[]}>(result: T, session: readonly string[]): T {
    for (const w of session) this.warn(w)
    return {...result, warnings: [...result.warnings, ...session]}
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    const error = toRedisctlError(err, this.id)
    if (!error) return super.catch(err)
    if (this.jsonEnabled()) {
      process.exitCode = error.exitCode
      this.logJson(errorJson(error))
      return
    }
    if (process.stderr.isTTY) this.error(error.message, {exit: error.exitCode, suggestions: error.suggestions})
    process.stderr.write(`${unwrappedError(error.message, error.suggestions)}\n`)
    this.exit(error.exitCode)
  }
}

/** How --json says an error, on stdout. */
const errorJson = (error: RedisctlError): {error: {kind: string; message: string; suggestions: string[]; exitCode: number}} =>
  ({error: {kind: error.kind, message: error.message, suggestions: error.suggestions, exitCode: error.exitCode}})

type OclifError = Error & {exitCode?: number; oclif?: {exit?: number}; parse?: unknown}

function toRedisctlError(err: OclifError, id: string | undefined): RedisctlError | undefined {
  if (err instanceof RedisctlError) return err
  // A command line oclif could not parse: one error and where the flags are listed, as kubectl says it, rather than
  // oclif's message wrapped at 80 columns and the whole help after it; under --json the same shape as every other error.
  if (err.parse !== undefined || err.oclif?.exit === ExitCode.usage) return parseUsageError(err, id)
  // oclif's own exits keep their codes and messages.
  if (err instanceof Errors.CLIError || err.oclif) return undefined
  if (err.name === 'ExitError') return undefined
  const bug = new BugError(err.message || String(err))
  bug.stack = err.stack
  return bug
}

function parseUsageError(err: Error, id: string | undefined): UsageError {
  const message = err.message.split('\n').map((line) => line.replaceAll(/\s+/g, ' ').trim())
    .filter((line) => line && !/^See more help with --help$|^The following errors? occurred:$/.test(line)).join(' ')
  const command = ['redisctl', ...(id ? [id.replaceAll(':', ' ')] : [])].join(' ')
  return new UsageError(message, [`${command} --help lists the flags and arguments.`])
}

export {ExitCode}

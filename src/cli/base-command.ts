import {Command, Errors} from '@oclif/core'

import {BugError, ExitCode, RedisctlError} from '../errors.js'

/**
 * The one place where errors become output and exit codes. Library code throws typed errors;
 * this renders them for people (message + what to do) or, under --json, as {"error": {...}} on stdout.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    const error = toRedisctlError(err)
    if (!error) return super.catch(err)
    if (this.jsonEnabled()) {
      process.exitCode = error.exitCode
      this.logJson({error: {kind: error.kind, message: error.message, suggestions: error.suggestions, exitCode: error.exitCode}})
      return
    }
    this.error(error.message, {exit: error.exitCode, suggestions: error.suggestions})
  }
}

function toRedisctlError(err: Error & {exitCode?: number; oclif?: {exit?: number}}): RedisctlError | undefined {
  if (err instanceof RedisctlError) return err
  // oclif's own parse errors and exits keep their codes and messages.
  if (err instanceof Errors.CLIError || err.oclif) return undefined
  if (err.name === 'ExitError') return undefined
  const bug = new BugError(err.message || String(err))
  bug.stack = err.stack
  return bug
}

export {ExitCode}

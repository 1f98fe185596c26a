import {ExitCode, InterruptedError, type StopSignal} from '../errors.js'

const SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM']

/** 128 + the signal's number, as a shell reports a process the signal ended. */
export const signalExitCode = (signal: StopSignal): number => (signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted)

/**
 * Ctrl-C (SIGINT) and SIGTERM for one command. While work that stops cleanly runs (`cleanly`: a task list), the
 * first signal aborts `signal`: no new step starts, slot batches in flight land, slots left open are closed, and
 * the command ends with an InterruptedError (exit 130 or 143) saying what was done. Outside such work there is
 * nothing to finish and the signal ends the command at once, as a second signal always does.
 */
export class StopOnSignal {
  private readonly controller = new AbortController()
  private finishing = 0
  private report: (error: InterruptedError) => void = () => {}

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** `report` says a stop at once the way the command's errors are said (under --json, on stdout) before it exits. */
  listen(report: (error: InterruptedError) => void): void {
    this.report = report
    for (const s of SIGNALS) process.on(s, this.onSignal)
  }

  close(): void {
    for (const s of SIGNALS) process.off(s, this.onSignal)
  }

  /** Runs work that ends cleanly on the first signal (it watches `signal`). */
  async cleanly<T>(work: () => Promise<T>): Promise<T> {
    this.finishing++
    try {
      return await work()
    } finally {
      this.finishing--
    }
  }

  private readonly onSignal = (signal: StopSignal): void => {
    if (this.signal.aborted || this.finishing === 0) {
      // A second signal cuts the work in flight: slots being moved may be left open, which the same command, run
      // again, closes first (check reports them as open-slots meanwhile).
      const stopped = new InterruptedError(signal, `${signal}: stopped at once.`, this.signal.aborted
        ? ['Slots being moved may be left open (redisctl check lists them): run the same command again, it closes them first and finishes the job.']
        : undefined)
      process.stderr.write(`\n${stopped.message} ${stopped.suggestions.join(' ')}\n`)
      this.report(stopped)
      process.exit(signalExitCode(signal))
    }
    process.stderr.write(`\n${signal}: starting nothing new; letting the work in flight land and closing open slots (${signal} again stops at once).\n`)
    this.controller.abort(new InterruptedError(signal, `Stopped by ${signal}.`))
  }
}

import {LISTR_LOGGER_STDERR_LEVELS, ListrLogger, ListrLogLevels, type LoggerFieldOptions} from 'listr2'

export type RendererName = 'default' | 'simple' | 'silent'

export interface OutputEnvironment {
  json: boolean
  isTTY: boolean
  /** Set by CI systems (CI=true): their logs want one plain line per step, not a redrawn screen. */
  ci: boolean
}

/** --json keeps stdout pure JSON; a terminal gets the live task list; pipes and CI get plain lines. */
export function chooseRenderer(env: OutputEnvironment): RendererName {
  if (env.json) return 'silent'
  if (!env.isTTY || env.ci) return 'simple'
  return 'default'
}

export function currentOutputEnvironment(json: boolean): OutputEnvironment {
  const ci = Boolean(process.env.CI) && process.env.CI !== 'false'
  return {json, isTTY: Boolean(process.stdout.isTTY), ci}
}

/**
 * The plain renderer's lines, one per finished step. listr2's simple renderer logs every step twice ("❯ title" when
 * it starts, "✔ title" when it ends) and a failure with its message, which BaseCommand.catch prints again with what
 * to do. Here a step's start is printed only when the step reports progress before it ends (so its "›" lines sit
 * under it), a failed step is "✖ title" alone, and a progress line equal to the one before is not repeated.
 * Task lists run their steps one after another, so the step that reports is the last one started.
 */
export class StepLogger extends ListrLogger {
  private started: string | undefined
  private lastOutput: string | undefined

  override log(level: string, message: string | unknown[], options?: LoggerFieldOptions): void {
    if (level === ListrLogLevels.STARTED) {
      this.started = String(message)
      this.lastOutput = undefined
      return
    }
    if (level === ListrLogLevels.OUTPUT) {
      if (String(message) === this.lastOutput) return
      this.lastOutput = String(message)
      if (this.started !== undefined) super.log(ListrLogLevels.STARTED, this.started)
      this.started = undefined
      super.log(level, message, options)
      return
    }
    this.started = undefined
    super.log(level, message, level === ListrLogLevels.FAILED ? undefined : options)
  }
}

/** A StepLogger that writes where listr2's own logger would: failures on stderr, the rest on stdout. */
export const stepLogger = (): StepLogger => new StepLogger({useIcons: true, toStderr: LISTR_LOGGER_STDERR_LEVELS})

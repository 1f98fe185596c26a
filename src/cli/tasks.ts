import {Listr, type ListrTask} from 'listr2'

import {throwIfInterrupted} from '../util/interrupt.js'
import {chooseRenderer, currentOutputEnvironment, stepLogger} from './renderer.js'
import type {StopOnSignal} from './stop.js'

/** What a task list needs from the command that runs it. */
export interface TaskRunner {
  jsonEnabled(): boolean
  stop: StopOnSignal
}

/**
 * Runs a workflow's task list with the renderer that fits where the output goes. Signals are the command's
 * (src/cli/stop.ts), not listr2's: its own SIGINT listener would end the process with exit 127 in the middle of a
 * step. On the first signal no further step starts; the step running sees the signal through its I/O.
 */
export async function runTasks<Ctx extends object>(tasks: ListrTask<Ctx>[], ctx: Ctx, command: TaskRunner): Promise<Ctx> {
  const renderer = chooseRenderer(currentOutputEnvironment(command.jsonEnabled()))
  const {signal} = command.stop
  const list = new Listr<Ctx, 'default' | 'simple' | 'silent', 'simple'>(tasks.map((t) => ({
    ...t,
    task: async (c, task) => {
      throwIfInterrupted(signal, `before "${typeof t.title === 'string' ? t.title : 'the next step'}"; the steps marked done are done`)
      return t.task(c, task)
    },
  })), {
    ctx,
    renderer,
    fallbackRenderer: 'simple',
    exitOnError: true,
    registerSignalListeners: false,
    rendererOptions: renderer === 'simple' ? {logger: stepLogger()} : {collapseSubtasks: false},
    fallbackRendererOptions: {logger: stepLogger()},
  })
  return command.stop.cleanly(() => list.run())
}

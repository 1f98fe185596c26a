import {Listr, type ListrTask} from 'listr2'

import {chooseRenderer, currentOutputEnvironment} from './renderer.js'

/**
 * Runs a workflow's task list with the renderer that fits where the output goes. listr2 only listens to SIGINT;
 * SIGTERM (CI cancelling a job) is mapped onto it so both stop the run the same way, between steps.
 */
export async function runTasks<Ctx extends object>(tasks: ListrTask<Ctx>[], ctx: Ctx, json: boolean): Promise<Ctx> {
  const renderer = chooseRenderer(currentOutputEnvironment(json))
  const list = new Listr<Ctx, 'default' | 'simple' | 'silent', 'simple'>(tasks, {
    ctx,
    renderer,
    fallbackRenderer: 'simple',
    exitOnError: true,
    rendererOptions: {collapseSubtasks: false},
  })
  const onTerm = (): void => {
    process.emit('SIGINT')
  }
  process.once('SIGTERM', onTerm)
  try {
    return await list.run()
  } finally {
    process.off('SIGTERM', onTerm)
  }
}

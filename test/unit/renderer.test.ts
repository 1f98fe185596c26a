import {Writable} from 'node:stream'

import {LISTR_LOGGER_STDERR_LEVELS, Listr, ProcessOutput, type ListrTask} from 'listr2'
import {describe, expect, it} from 'vitest'

import {chooseRenderer, StepLogger} from '../../src/cli/renderer.js'

describe('task list renderer', () => {
  it('is silent under --json so stdout stays pure JSON', () => {
    expect(chooseRenderer({json: true, isTTY: true, ci: false})).toBe('silent')
  })

  it('draws the live task list on a terminal', () => {
    expect(chooseRenderer({json: false, isTTY: true, ci: false})).toBe('default')
  })

  it('prints one plain line per step when output is piped', () => {
    expect(chooseRenderer({json: false, isTTY: false, ci: false})).toBe('simple')
  })

  it('prints one plain line per step in CI even with a TTY', () => {
    expect(chooseRenderer({json: false, isTTY: true, ci: true})).toBe('simple')
  })
})

describe('plain lines without a terminal (listr2 simple renderer with StepLogger)', () => {
  /** Runs a task list the way runTasks does without a TTY, and returns what reached stdout and stderr. */
  async function plainOutput(tasks: ListrTask[]): Promise<{stdout: string; stderr: string}> {
    const out = {stdout: '', stderr: ''}
    const sink = (name: keyof typeof out): NodeJS.WriteStream => new Writable({
      write(chunk: Buffer, _encoding, done) {
        out[name] += chunk.toString()
        done()
      },
    }) as NodeJS.WriteStream
    const logger = new StepLogger({useIcons: false, toStderr: LISTR_LOGGER_STDERR_LEVELS, processOutput: new ProcessOutput(sink('stdout'), sink('stderr'))})
    await new Listr(tasks, {renderer: 'simple', exitOnError: true, registerSignalListeners: false, rendererOptions: {logger}}).run().catch(() => undefined)
    return out
  }

  it('prints one line per finished step, not a line when it starts and another when it ends', async () => {
    const {stdout} = await plainOutput([
      {title: 'Read every node', task: () => undefined},
      {title: 'Plan the moves', task: (_c, task) => { task.title = 'Planned 2 moves' }},
    ])
    expect(stdout.trim().split('\n')).toEqual(['[COMPLETED] Read every node', '[COMPLETED] Planned 2 moves'])
  })

  it('names a step that reports progress before its progress lines, and prints a repeated progress line once', async () => {
    const {stdout} = await plainOutput([{title: 'Wait for the pods to be Ready', task: (_c, task) => {
      task.output = '0 of 6 ready'
      task.output = '0 of 6 ready'
      task.output = '4 of 6 ready'
      task.title = '6 pods are Ready'
    }}])
    expect(stdout.trim().split('\n')).toEqual([
      '[STARTED] Wait for the pods to be Ready', '[OUTPUT] 0 of 6 ready', '[OUTPUT] 4 of 6 ready', '[COMPLETED] 6 pods are Ready',
    ])
  })

  it('prints a failed step without its error, which the command prints once with what to do', async () => {
    const {stdout, stderr} = await plainOutput([{title: 'Read every node', task: () => {
      throw new Error('--weight names redis-cluster-5, which is not a master of this cluster.')
    }}])
    expect(stdout).toBe('')
    expect(stderr.trim()).toBe('[FAILED] Read every node')
  })
})

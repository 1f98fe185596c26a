import {spawn} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'

import type {CliResult} from './cli.js'

export interface WatchedRun extends CliResult {
  /** Every command line the process had while it ran (it may re-execute itself, keeping its pid), in order. */
  commandLines: string[][]
}

/** Runs a program to its end, reading its /proc command line every few milliseconds meanwhile. */
export async function runWatchingCommandLine(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<WatchedRun> {
  const child = spawn(command, args, {env, stdio: ['ignore', 'pipe', 'pipe']})
  const result: WatchedRun = {code: null, stdout: '', stderr: '', commandLines: []}
  child.stdout.on('data', (d: Buffer) => (result.stdout += d))
  child.stderr.on('data', (d: Buffer) => (result.stderr += d))
  let ended = false
  const closed = new Promise<void>((resolve) => child.once('close', (code) => {
    ended = true
    result.code = code
    resolve()
  }))
  while (!ended) {
    const line = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8').catch(() => '')).split('\0').slice(0, -1)
    if (line.length > 0 && line.join(' ') !== result.commandLines.at(-1)?.join(' ')) result.commandLines.push(line)
    await sleep(2)
  }
  await closed
  return result
}

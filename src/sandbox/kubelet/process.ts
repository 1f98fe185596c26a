import {spawn} from 'node:child_process'
import {closeSync, openSync} from 'node:fs'
import {mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

export interface Exit {
  /** Exit code, or 128 + signal number when a signal ended the process, as container runtimes report it. */
  exitCode: number
  signal?: number
  reason: 'Completed' | 'Error' | 'StartError'
  message?: string
}

/** A server process the kubelet started; its pid file lives while it runs. */
export interface ServerProcess {
  pid: number
  exited: Promise<Exit>
  /** SIGTERM, then SIGKILL once graceMs has passed; resolves when the process is gone. */
  stop(graceMs: number): Promise<Exit>
}

export interface ServerLaunch {
  binary: string
  args: string[]
  env: Record<string, string>
  cwd: string
  logFile: string
  pidFile: string
}

/**
 * Starts a server with stdout and stderr appended to its log file. It gets its own process group so that
 * a Ctrl-C in the kubelet's terminal reaches the kubelet, which then stops its servers in order.
 */
export async function startServer(launch: ServerLaunch): Promise<ServerProcess> {
  await mkdir(dirname(launch.logFile), {recursive: true})
  await mkdir(launch.cwd, {recursive: true})
  const log = openSync(launch.logFile, 'a')
  let child
  try {
    child = spawn(launch.binary, launch.args, {cwd: launch.cwd, env: launch.env, stdio: ['ignore', log, log], detached: true})
  } finally {
    closeSync(log)
  }
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (error) => resolve({exitCode: 128, reason: 'StartError', message: error.message}))
    child.once('exit', (code, signal) => {
      const number = signal ? signalNumber(signal) : undefined
      const exitCode = code ?? 128 + (number ?? 0)
      resolve({exitCode, signal: number, reason: exitCode === 0 ? 'Completed' : 'Error'})
    })
  })
  const pid = child.pid ?? -1
  if (pid > 0) {
    await writeFile(launch.pidFile, String(pid))
    void exited.then(() => rm(launch.pidFile, {force: true}))
  }
  return {
    pid,
    exited,
    async stop(graceMs) {
      if (child.exitCode !== null || child.signalCode !== null || pid <= 0) return exited
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const exit = await exited
      clearTimeout(timer)
      return exit
    },
  }
}

const SIGNALS: Record<string, number> = {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15}

const signalNumber = (signal: NodeJS.Signals): number => SIGNALS[signal] ?? 0

/**
 * Stops servers a previous kubelet left running (it was killed before it could stop them), found by their
 * pid files under the pods folder. A pid is only signalled while it still belongs to a redis-server or
 * valkey-server, so a recycled pid is never hit.
 */
export async function stopStaleServers(podsDir: string, graceMs: number): Promise<number[]> {
  const pids: number[] = []
  for (const pidFile of await findPidFiles(podsDir)) {
    const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''))
    if (Number.isInteger(pid) && pid > 0 && (await isServer(pid))) pids.push(pid)
    await rm(pidFile, {force: true})
  }
  await Promise.all(pids.map((pid) => terminate(pid, graceMs)))
  return pids
}

async function findPidFiles(podsDir: string): Promise<string[]> {
  const pods = await readdir(podsDir).catch(() => [] as string[])
  const files: string[] = []
  for (const pod of pods) {
    const entries = await readdir(join(podsDir, pod)).catch(() => [] as string[])
    files.push(...entries.filter((name) => name.endsWith('.pid')).map((name) => join(podsDir, pod, name)))
  }
  return files
}

async function isServer(pid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
  return /(redis|valkey)-server/.test(cmdline)
}

async function terminate(pid: number, graceMs: number): Promise<void> {
  signal(pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && (await isServer(pid))) await sleep(20)
  if (await isServer(pid)) signal(pid, 'SIGKILL')
  const killDeadline = Date.now() + 5000
  while (Date.now() < killDeadline && (await isServer(pid))) await sleep(20)
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {
    // Already gone.
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

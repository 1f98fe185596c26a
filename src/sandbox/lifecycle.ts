import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {accessSync, constants, openSync, closeSync} from 'node:fs'
import {get as httpsGet} from 'node:https'
import {readFile, rm, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {fileURLToPath} from 'node:url'

import {PreconditionError, TimeoutError, UsageError} from '../errors.js'
import {childEnvironment} from '../util/child-env.js'
import {makeDirs} from '../util/make-dirs.js'
import {findServerBinary, isExecutable} from './kubelet/container-command.js'
import {formatImageMap, parseImageMapping} from './kubelet/images.js'
import {stopLeftoverServers} from './kubelet/index.js'
import {nodeAddresses, parseIpRange} from './kubelet/ip-range.js'
import {sandboxFiles} from './paths.js'
import {isAlive, readState, type SandboxState} from './state.js'

export interface UpOptions {
  dir: string
  nodes: number
  zones: number
  /** 0 picks a free port. */
  port: number
  /** Undefined: a /16 derived from the folder, so sandboxes in different folders do not share pod IPs. */
  podIpRange?: string
  /** IMAGE=PATH mappings for the image map file (replacing it); undefined leaves the file as it is. */
  imageMap?: string[]
  timeoutMs: number
}

export interface UpResult {
  alreadyUp: boolean
  kubeconfig: string
  server: string
  pid: number
  dir: string
  /** The image map file the kubelet reads at every pull. */
  imageMap: string
}

const DAEMON = fileURLToPath(new URL('./daemon-main.js', import.meta.url))

export async function sandboxUp(options: UpOptions): Promise<UpResult> {
  const imageMap = options.imageMap && checkImageMap(options.imageMap)
  const running = await runningState(options.dir)
  const files = sandboxFiles(options.dir)
  if (running) {
    const differs = running.nodes !== options.nodes || running.zones !== options.zones || (options.port !== 0 && options.port !== running.port) ||
      (options.podIpRange !== undefined && options.podIpRange !== running.podIpRange)
    if (differs) {
      throw new UsageError(`The sandbox in ${options.dir} is already up with other settings (${running.nodes} nodes, ${running.zones} zones, port ${running.port}).`, [
        'Stop it first with redisctl sandbox down, or use another --dir.',
      ])
    }
    // The kubelet reads the map at every pull, so a running sandbox takes a new one as it is.
    if (imageMap) await writeFile(files.imageMap, imageMap)
    return {alreadyUp: true, kubeconfig: running.kubeconfig, server: running.server, pid: running.pid, dir: options.dir, imageMap: files.imageMap}
  }
  if (options.podIpRange !== undefined) nodeAddresses(parseIpRange(options.podIpRange), options.nodes)
  if (options.zones > options.nodes) throw new UsageError(`--zones (${options.zones}) cannot exceed --nodes (${options.nodes}).`)
  if (!findServerBinary('redis-server')) {
    throw new PreconditionError('redis-server is not installed: the sandbox runs every pod as a real redis-server process.', [
      'Install it: sudo apt-get install -y redis-server (Debian/Ubuntu).',
    ])
  }
  prepareDir(options.dir)
  if (options.port !== 0) await requireFreePort(options.port)
  if (imageMap) await writeFile(files.imageMap, imageMap)
  await rm(files.state, {force: true})
  const logFd = openSync(files.log, 'a')
  const child = spawn(process.execPath, [DAEMON, '--dir', options.dir, '--nodes', String(options.nodes), '--zones', String(options.zones), '--port', String(options.port), '--pod-ip-range', options.podIpRange ?? defaultPodIpRange(options.dir)], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    // The daemon's kubelet starts the pods' servers: a password the CLI was given must not reach them.
    env: childEnvironment(),
  })
  closeSync(logFd)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.unref()
  const state = await waitForDaemon(options.dir, child.pid!, exited, options.timeoutMs)
  return {alreadyUp: false, kubeconfig: state.kubeconfig, server: state.server, pid: state.pid, dir: options.dir, imageMap: files.imageMap}
}

/**
 * The image map file's text for --image-map IMAGE=PATH: PATH must be an executable redis-server or valkey-server
 * (by that name, which is how servers left behind are recognised), or empty for an image that cannot be pulled.
 */
function checkImageMap(mappings: string[]): string {
  const map = new Map<string, string>()
  for (const mapping of mappings) {
    let image: string
    let path: string
    try {
      ;[image, path] = parseImageMapping(mapping)
    } catch (error) {
      throw new UsageError(`--image-map ${(error as Error).message}.`, ['Write it as IMAGE=/absolute/path/to/redis-server, or IMAGE= for an image that cannot be pulled.'])
    }
    if (path && (!/(redis|valkey)-server$/.test(path) || !isExecutable(path))) {
      throw new UsageError(`--image-map ${mapping}: ${path} is not an executable redis-server or valkey-server.`, [
        'Name a server binary by its path (for a build of your own: <prefix>/bin/redis-server).',
      ])
    }
    map.set(image, path)
  }
  return formatImageMap(map)
}

/** 127.X.0.0/16 with X from a hash of the folder (64-199; tests use 200 and up): stable for a folder, different across folders. */
export function defaultPodIpRange(dir: string): string {
  const hash = createHash('sha256').update(dir).digest()
  return `127.${64 + (hash.readUInt16BE(0) % 136)}.0.0/16`
}

async function runningState(dir: string): Promise<SandboxState | undefined> {
  const state = await readState(dir)
  return state && isAlive(state.pid) ? state : undefined
}

function prepareDir(dir: string): void {
  try {
    makeDirs(dir)
    accessSync(dir, constants.W_OK)
  } catch (error) {
    throw new UsageError(`The sandbox folder ${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)}).`, [
      'Pass a writable folder with --dir or REDISCTL_SANDBOX_DIR.',
    ])
  }
}


async function requireFreePort(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer()
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(new UsageError(`Port ${port} on 127.0.0.1 is not available (${error.code}).`, ['Choose another --port, or omit it to pick a free one.']))
    })
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()))
  })
}

async function waitForDaemon(dir: string, pid: number, exited: Promise<number | null>, timeoutMs: number): Promise<SandboxState> {
  const deadline = Date.now() + timeoutMs
  let exitCode: number | null | undefined
  void exited.then((code) => {
    exitCode = code
  })
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new PreconditionError(`The sandbox failed to start: ${await lastLogLine(dir)}`, [`See the full log: ${sandboxFiles(dir).log}`])
    }
    const state = await readState(dir)
    if (state && state.pid === pid && (await answers(state.server))) return state
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  process.kill(pid, 'SIGTERM')
  throw new TimeoutError(`The sandbox did not come up within ${Math.round(timeoutMs / 1000)} s.`, [`See the log: ${sandboxFiles(dir).log}`])
}

/** Whether the daemon's API server answers /version (open to anyone). Only liveness is asked, so its certificate is not. */
function answers(server: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsGet(`${server}/version`, {rejectUnauthorized: false, timeout: 1000}, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
  })
}

async function lastLogLine(dir: string): Promise<string> {
  try {
    const lines = (await readFile(sandboxFiles(dir).log, 'utf8')).trim().split('\n')
    return lines.at(-1)?.replace(/^\S+Z /, '') ?? 'no log'
  } catch {
    return 'no log'
  }
}

export interface DownResult {
  wasRunning: boolean
  purged: boolean
  dir: string
}

export async function sandboxDown(dir: string, options: {purge: boolean; timeoutMs: number}): Promise<DownResult> {
  const state = await runningState(dir)
  if (state) {
    process.kill(state.pid, 'SIGTERM')
    const deadline = Date.now() + options.timeoutMs
    while (isAlive(state.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25))
    if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL')
  }
  await stopLeftoverServers(sandboxFiles(dir).kubelet)
  await rm(sandboxFiles(dir).state, {force: true})
  if (options.purge) await rm(dir, {recursive: true, force: true})
  return {wasRunning: Boolean(state), purged: options.purge, dir}
}

import {accessSync, constants} from 'node:fs'
import {delimiter, join, posix} from 'node:path'

export type ServerName = 'redis-server' | 'valkey-server'

/** What the sandbox runs for a container: always a redis-compatible server and its arguments. */
export type ServerCommand =
  | {runnable: true; server: ServerName; args: string[]}
  | {runnable: false; message: string}

interface ContainerLike {
  name: string
  image?: string
  command?: string[]
  args?: string[]
}

const SERVERS = new Set(['redis-server', 'valkey-server'])

/**
 * Resolves a container's process the way a container runtime would: command replaces the image's
 * entrypoint, args alone go to the entrypoint. For server images (redis* and valkey*, or whatever the image map
 * says: `entrypoint`) the entrypoint behaves like the official docker-entrypoint.sh: arguments that start with
 * `-` or end in `.conf` are given to the server, and no arguments at all run the server bare.
 */
export function resolveServerCommand(container: ContainerLike, entrypoint = serverOfImage(container.image)): ServerCommand {
  const command = container.command ?? []
  const args = container.args ?? []
  const imageServer = entrypoint
  let argv: string[]
  if (command.length > 0) argv = [...command, ...args]
  else if (args.length > 0 && imageServer && (args[0].startsWith('-') || args[0].endsWith('.conf'))) argv = [imageServer, ...args]
  else if (args.length > 0) argv = args
  else if (imageServer) argv = [imageServer]
  else {
    return notRunnable(container, `image "${container.image ?? ''}" has no known redis-server entrypoint and the container sets no command`)
  }
  const server = posix.basename(argv[0])
  if (SERVERS.has(server)) return {runnable: true, server: server as ServerName, args: argv.slice(1)}
  return notRunnable(container, `it would run "${argv[0]}"`)
}

function notRunnable(container: ContainerLike, why: string): ServerCommand {
  return {
    runnable: false,
    message: `container "${container.name}" cannot run: ${why}; the sandbox's kubelet runs only redis-server (or valkey-server) containers`,
  }
}

/** The server an image starts by default: redis-server for redis* images, valkey-server for valkey*, whatever the registry and tag. */
export function serverOfImage(image: string | undefined): ServerName | undefined {
  const repository = (image ?? '').split('@')[0].split('/').pop() ?? ''
  const name = repository.split(':')[0]
  if (name.startsWith('redis')) return 'redis-server'
  if (name.startsWith('valkey')) return 'valkey-server'
  return undefined
}

/**
 * The host binary for a server: the configured path, else the named server on PATH, else the other one
 * (valkey-server speaks the same protocol and options as redis-server 7). Undefined when neither exists.
 */
export function findServerBinary(server: ServerName, configured?: string, path = process.env.PATH ?? ''): string | undefined {
  if (configured) return isExecutable(configured) ? configured : undefined
  const other = server === 'redis-server' ? 'valkey-server' : 'redis-server'
  for (const name of [server, other]) {
    for (const dir of path.split(delimiter)) {
      if (dir && isExecutable(join(dir, name))) return join(dir, name)
    }
  }
  return undefined
}

/** The server a binary is, by its name. */
export function serverOfBinary(binary: string): ServerName {
  return posix.basename(binary).includes('valkey') ? 'valkey-server' : 'redis-server'
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export const MISSING_SERVER_MESSAGE =
  'redis-server is not installed on the machine running the sandbox: install the redis-server package (apt-get install redis-server) or pass redisServerPath'

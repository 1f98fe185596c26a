import {readFile} from 'node:fs/promises'
import {isAbsolute} from 'node:path'

import {findServerBinary, isExecutable, type ServerName, serverOfImage} from './container-command.js'

/**
 * What "pulling an image" means in the sandbox: finding the server binary the image stands for. redis* and valkey*
 * images stand for the servers installed on the machine; an image map (`IMAGE=PATH` lines, read at every pull) names
 * other binaries, e.g. a second redis-server build for a real version change, or nothing (`IMAGE=`) for an image
 * that must fail. Any other image cannot be pulled, and the pod shows ErrImagePull / ImagePullBackOff as on a node
 * whose registry does not have the image.
 */

export type ImageMap = ReadonlyMap<string, string>

export type Pull =
  | {ok: true; binary: string}
  /** The image does not exist: the message is what containerd says for a missing image. */
  | {ok: false; notFound: true; message: string}
  /** The image's server is not installed on the machine running the sandbox. */
  | {ok: false; notFound: false}

/** One `IMAGE=PATH` mapping; PATH may be empty (the image cannot be pulled) or absolute. Throws a message on bad syntax. */
export function parseImageMapping(text: string): [string, string] {
  const at = text.indexOf('=')
  const image = text.slice(0, at).trim()
  const path = text.slice(at + 1).trim()
  if (at <= 0 || !image || /\s/.test(image)) throw new Error(`"${text}" is not IMAGE=PATH`)
  if (path && !isAbsolute(path)) throw new Error(`"${text}": PATH must be absolute`)
  return [image, path]
}

export function formatImageMap(map: ImageMap): string {
  return [...map].map(([image, path]) => `${image}=${path}\n`).join('')
}

/** The map file: one mapping a line, `#` comments and blank lines skipped; lines that do not parse are reported. */
export function parseImageMap(text: string): {map: Map<string, string>; errors: string[]} {
  const map = new Map<string, string>()
  const errors: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    try {
      const [image, path] = parseImageMapping(line)
      map.set(image, path)
    } catch (error) {
      errors.push((error as Error).message)
    }
  }
  return {map, errors}
}

/** The map in `file` now; a missing file is an empty map. */
export async function readImageMap(file: string | undefined, log: (line: string) => void): Promise<ImageMap> {
  if (!file) return new Map()
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') log(`kubelet: image map ${file} not read: ${error.message}`)
    return ''
  })
  const {map, errors} = parseImageMap(text)
  for (const error of errors) log(`kubelet: image map ${file}: ${error}`)
  return map
}

/**
 * Pulls an image for a container whose command names `server`: the mapped binary (a mapping to nothing, or to a
 * file that is not executable, cannot be pulled), else the installed server for a redis* or valkey* image
 * (`configured` when given), else not found.
 */
export function pullImage(image: string, server: ServerName, map: ImageMap, configured?: string): Pull {
  const mapped = map.get(image)
  if (mapped !== undefined) {
    if (mapped && isExecutable(mapped)) return {ok: true, binary: mapped}
    return notFound(image)
  }
  if (!serverOfImage(image)) return notFound(image)
  const binary = findServerBinary(server, configured)
  return binary ? {ok: true, binary} : {ok: false, notFound: false}
}

function notFound(image: string): Pull {
  const ref = fullReference(image)
  return {
    ok: false,
    notFound: true,
    message: `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`,
  }
}

/** The reference a container runtime resolves: docker.io and library/ filled in, :latest when there is no tag or digest. */
export function fullReference(image: string): string {
  const slash = image.indexOf('/')
  const first = slash < 0 ? '' : image.slice(0, slash)
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost'
  const path = hasRegistry ? image : slash < 0 ? `docker.io/library/${image}` : `docker.io/${image}`
  const last = path.slice(path.lastIndexOf('/') + 1)
  return last.includes(':') || path.includes('@') ? path : `${path}:latest`
}

import {readFile, rename, writeFile} from 'node:fs/promises'

import {sandboxFiles} from './paths.js'

/** What a running sandbox daemon records about itself; its presence with a live pid means "up". */
export interface SandboxState {
  pid: number
  server: string
  port: number
  kubeconfig: string
  dir: string
  nodes: number
  zones: number
  podIpRange: string
  startedAt: string
}

export async function readState(dir: string): Promise<SandboxState | undefined> {
  try {
    return JSON.parse(await readFile(sandboxFiles(dir).state, 'utf8')) as SandboxState
  } catch {
    return undefined
  }
}

export async function writeState(state: SandboxState): Promise<void> {
  const file = sandboxFiles(state.dir).state
  await writeFile(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n')
  await rename(`${file}.tmp`, file)
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

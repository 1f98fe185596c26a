import type {V1Container, V1Pod} from '@kubernetes/client-node'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {resolveEnv, type ObjectSources} from './env.js'
import {expand} from './expand.js'
import {hostPathFor, type Mount, rewritePaths} from './paths.js'
import type {ServerLaunch} from './process.js'
import {configFileOf, listeningPort, serverArgs} from './server-args.js'

export interface LaunchInputs {
  pod: V1Pod
  container: V1Container
  /** The container's server arguments, as resolveServerCommand found them. */
  args: string[]
  binary: string
  podIp: string
  hostIp: string
  podDir: string
  mounts: Mount[]
  sources: ObjectSources
}

export type LaunchPlan = {ok: true; launch: ServerLaunch; port: number} | {ok: false; message: string}

/**
 * How to start a container's server: its environment resolved, `$(VAR)` expanded in the arguments, container
 * paths rewritten to host folders, and the pod-IP options appended. The working directory is the container's
 * workingDir (or /data, the redis image's) when a volume backs it, else a folder of the pod's own.
 */
export async function planLaunch(inputs: LaunchInputs): Promise<LaunchPlan> {
  const {pod, container, podIp, hostIp, mounts} = inputs
  const env = resolveEnv(pod, container, {podIp, hostIp}, inputs.sources)
  if (!env.ok) return env
  const args = inputs.args.map((arg) => rewritePaths(expand(arg, env.env), mounts))
  const configFile = configFileOf(args)
  const configText = configFile ? await readFile(configFile, 'utf8').catch(() => '') : ''
  const cwd = hostPathFor(container.workingDir ?? '/data', mounts) ?? join(inputs.podDir, 'rootfs', container.name)
  return {
    ok: true,
    port: listeningPort(args, configText),
    launch: {
      binary: inputs.binary,
      args: serverArgs(args, podIp),
      env: {PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTNAME: pod.metadata?.name ?? '', ...Object.fromEntries(env.env)},
      cwd,
      logFile: join(inputs.podDir, `${container.name}.log`),
      pidFile: join(inputs.podDir, `${container.name}.pid`),
    },
  }
}

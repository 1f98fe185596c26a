import {homedir} from 'node:os'
import {existsSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'

export const SANDBOX_DIR_ENV = 'REDISCTL_SANDBOX_DIR'

/** Where the sandbox keeps its state: --dir, else $REDISCTL_SANDBOX_DIR, else a per-user state folder. */
export function sandboxDir(flag?: string): string {
  if (flag) return resolve(flag)
  if (process.env[SANDBOX_DIR_ENV]) return resolve(process.env[SANDBOX_DIR_ENV]!)
  const stateHome = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state')
  return join(stateHome, 'redisctl', 'sandbox')
}

/**
 * The sandbox a shell works with, for `sandbox down` and `sandbox status`: --dir, else $REDISCTL_SANDBOX_DIR, else
 * the sandbox whose kubeconfig $KUBECONFIG names (what `sandbox up` told the user to export), else the default.
 */
export function currentSandboxDir(flag?: string): string {
  const kubeconfig = process.env.KUBECONFIG
  if (flag || process.env[SANDBOX_DIR_ENV] || !kubeconfig) return sandboxDir(flag)
  const dir = dirname(resolve(kubeconfig))
  return basename(kubeconfig) === 'kubeconfig' && existsSync(sandboxFiles(dir).state) ? dir : sandboxDir()
}

export const sandboxFiles = (dir: string) => ({
  state: join(dir, 'state.json'),
  kubeconfig: join(dir, 'kubeconfig'),
  log: join(dir, 'sandbox.log'),
  volumes: join(dir, 'volumes'),
  kubelet: join(dir, 'kubelet'),
  /** IMAGE=PATH lines the kubelet reads at every image pull. */
  imageMap: join(dir, 'image-map'),
})

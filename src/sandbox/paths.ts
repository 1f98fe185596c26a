import {homedir} from 'node:os'
import {join, resolve} from 'node:path'

export const SANDBOX_DIR_ENV = 'REDISCTL_SANDBOX_DIR'

/** Where the sandbox keeps its state: --dir, else $REDISCTL_SANDBOX_DIR, else a per-user state folder. */
export function sandboxDir(flag?: string): string {
  if (flag) return resolve(flag)
  if (process.env[SANDBOX_DIR_ENV]) return resolve(process.env[SANDBOX_DIR_ENV]!)
  const stateHome = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state')
  return join(stateHome, 'redisctl', 'sandbox')
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

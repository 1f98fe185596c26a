import {connectKube, requireNamespace, type Kube} from '../kube/context.js'
import type {RedisPod} from '../kube/pods.js'
import {resolvePassword} from '../kube/secrets.js'
import {clusterSelector} from '../manifests/labels.js'
import {RedisConnector} from '../redis/connection.js'
import {tcpOpen} from '../redis/probe.js'

export type ConnectMode = 'auto' | 'direct' | 'port-forward'

/** The flags every cluster command shares (src/cli/flags.ts), as the workflows need them. */
export interface TargetOptions {
  kubeconfig?: string
  context?: string
  namespace?: string
  selector?: string
  name: string
  connect: ConnectMode
  passwordSecret?: string
}

export interface KubeTargetSession {
  kube: Kube
  selector: string
  password?: string
}

/** Connects to Kubernetes and proves the namespace exists; reads the password. Changes nothing. */
export async function openTarget(options: TargetOptions): Promise<KubeTargetSession> {
  const kube = connectKube(options)
  await requireNamespace(kube)
  const password = await resolvePassword(kube, options.passwordSecret)
  return {kube, selector: options.selector ?? clusterSelector(options.name), password}
}

export interface RedisAccess {
  connector: RedisConnector
  mode: 'direct' | 'port-forward'
  close(): Promise<void>
}

/**
 * Opens Redis access to the pods: straight to their IPs, or through port-forwards when the pod network is out
 * of reach (auto decides by trying one pod IP).
 */
export async function openRedis(target: KubeTargetSession, pods: RedisPod[], mode: ConnectMode): Promise<RedisAccess> {
  const reachable = pods.filter((p) => p.ip)
  const direct = mode === 'direct' || (mode === 'auto' && (reachable.length === 0 || (await tcpOpen(reachable[0].ip!, reachable[0].port, 500))))
  if (direct) {
    const connector = new RedisConnector({password: target.password})
    return {connector, mode: 'direct', close: () => connector.closeAll()}
  }
  const {openPortForwards} = await import('../kube/port-forward.js')
  const forwards = await openPortForwards(target.kube, reachable)
  const connector = new RedisConnector({password: target.password, route: forwards.route})
  return {
    connector,
    mode: 'port-forward',
    async close() {
      await connector.closeAll()
      await forwards.close()
    },
  }
}

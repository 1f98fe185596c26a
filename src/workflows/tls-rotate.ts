import {X509Certificate} from 'node:crypto'

import {PatchStrategy} from '@kubernetes/client-node'
import type {ListrTask} from 'listr2'

import {PreconditionError} from '../errors.js'
import {readSecret} from '../kube/secrets.js'
import {TLS_SECRET_ANNOTATION} from '../manifests/cluster.js'
import {secretValue} from '../manifests/secret.js'
import {reloadTlsFiles} from '../redis/tls-reload.js'
import {podAddress, type PodRef} from '../topology/model.js'
import {waitUntil} from '../util/wait.js'
import {readTlsSecret, type TlsMaterial} from '../tls/client.js'
import type {OpenCluster} from './inspect.js'

export interface RotateContext {
  cluster: OpenCluster
  /** The cluster's name (--name): its CA is in the Secret `<name>-tls-ca` when redisctl made it. */
  name: string
  timeoutMs: number
  secret: string
  /** A new node certificate was issued (redisctl holds the CA); otherwise the Secret's owner renewed it. */
  issued: boolean
  /** The certificate every node must serve at the end: the Secret's. */
  wanted?: {fingerprint: string; notAfter: string}
  reloaded: string[]
}

/** The TLS Secret of a cluster redisctl made with --tls or --tls-secret, or a PreconditionError. */
export function tlsSecretOf(cluster: OpenCluster): string {
  const secret = cluster.kubePods.map((p) => p.annotations[TLS_SECRET_ANNOTATION]).find(Boolean)
  if (!secret) {
    throw new PreconditionError(`The pods matching "${cluster.target.selector}" serve no TLS redisctl knows of (no ${TLS_SECRET_ANNOTATION} annotation): there is nothing to rotate.`, [
      'A cluster made with redisctl cluster create --tls (or --tls-secret) can be rotated.',
    ])
  }
  return secret
}

/**
 * The rotation as data: a new node certificate from the same CA into the Secret (so nodes on the old and the new one
 * keep trusting each other), then every node reloads its files once the kubelet has refreshed the mounted Secret.
 */
export function rotateTasks(): ListrTask<RotateContext>[] {
  return [
    {
      title: 'Issue a new node certificate into the Secret',
      task: async (ctx, task) => {
        const {kube} = ctx.cluster.target
        const {caSecretName, issueNodeCertificate, tlsSecret} = await import('../tls/cluster-certificates.js')
        const caSecret = caSecretName(ctx.name)
        const ca = await readSecret(kube, caSecret)
        const caCert = ca && secretValue(ca, 'tls.crt')
        const caKey = ca && secretValue(ca, 'tls.key')
        if (!caCert || !caKey) {
          task.skip(`redisctl holds no CA for ${ctx.secret} (no Secret ${caSecret}): its issuer renews it; loading what it holds`)
          return
        }
        const node = await issueNodeCertificate({cert: caCert, key: caKey}, ctx.name, kube.namespace)
        const renewed = tlsSecret(ctx.name, kube.namespace, ctx.secret, caCert, node)
        await kube.call(`updating Secret ${ctx.secret}`, () =>
          kube.objects.patch(renewed, undefined, undefined, 'redisctl', undefined, PatchStrategy.MergePatch))
        ctx.issued = true
        task.title = `Issued a new node certificate into Secret ${ctx.secret}`
      },
    },
    {
      title: 'Wait for every node to load the Secret\'s certificate',
      task: async (ctx, task) => {
        const material = await readTlsSecret(ctx.cluster.target.kube, ctx.secret)
        ctx.wanted = certificateOf(material)
        const pods = ctx.cluster.pods
        const done = new Set<string>()
        await waitUntil('every node to serve the certificate of the Secret', async () => {
          await Promise.all(pods.filter((p) => !done.has(p.pod)).map(async (pod) => {
            if (await servesWanted(ctx, pod)) done.add(pod.pod)
          }))
          const left = pods.filter((p) => !done.has(p.pod)).map((p) => p.pod)
          return left.length === 0 ? {done: true, value: undefined} : {done: false, missing: `${left.join(', ')} still serve another certificate (the kubelet refreshes mounted Secrets within about a minute)`}
        }, {timeoutMs: ctx.timeoutMs, intervalMs: 500, signal: ctx.cluster.target.kube.signal, onWaiting: (missing) => {
          if (task.output !== missing) task.output = missing
        }})
        ctx.reloaded = pods.map((p) => p.pod)
      },
    },
  ]

  async function servesWanted(ctx: RotateContext, pod: PodRef): Promise<boolean> {
    const addr = podAddress(pod)
    const {connector} = ctx.cluster.access
    await reloadTlsFiles(connector, addr).catch(() => undefined)
    const served = await connector.peerCertificate(addr).catch(() => undefined)
    return served?.fingerprint256 === ctx.wanted!.fingerprint
  }
}

function certificateOf(material: TlsMaterial): {fingerprint: string; notAfter: string} {
  if (!material.cert) throw new PreconditionError(`${material.source} holds no tls.crt: the nodes have no certificate to load.`)
  const cert = new X509Certificate(material.cert)
  return {fingerprint: cert.fingerprint256, notAfter: new Date(cert.validTo).toISOString()}
}


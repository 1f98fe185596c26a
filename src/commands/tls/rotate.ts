import {BaseCommand} from '../../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../../cli/flags.js'
import type {RotateContext} from '../../workflows/tls-rotate.js'
import {agree, plural} from '../../util/words.js'

export interface TlsRotateResult {
  namespace: string
  secret: string
  /** A new node certificate was issued; false when the Secret's own issuer (cert-manager) renewed it. */
  issued: boolean
  /** The certificate every node now serves. */
  fingerprint: string
  notAfter: string
  /** The pods that reloaded it, without a restart. */
  reloaded: string[]
  warnings: string[]
}

export default class TlsRotate extends BaseCommand {
  static override summary = 'Renew the node certificate of a TLS cluster and have every node load it, with no restart and no dropped client.'
  static override description = `When redisctl made the certificates (cluster create --tls), it issues a new node certificate from the same CA into the Secret; when the Secret is someone else's (--tls-secret, e.g. cert-manager's), it loads what the Secret holds now. Then, once the kubelet has refreshed the mounted Secret, every node reads its certificate files again (CONFIG SET of the tls file settings to their own paths): connections open before keep going, new ones get the new certificate. Done when every node serves the Secret's certificate. Running it again issues another certificate.`
  static override examples = ['<%= config.bin %> tls rotate', '<%= config.bin %> tls rotate --json --timeout 180']
  static override flags = {...kubeFlags, ...redisFlags, timeout: actionFlags.timeout}

  async run(): Promise<TlsRotateResult> {
    const {flags} = await this.parse(TlsRotate)
    const options = {...this.targetOptions(flags), tls: true}
    const {openTarget} = await import('../../workflows/session.js')
    const {openCluster} = await import('../../workflows/inspect.js')
    const {rotateTasks, tlsSecretOf} = await import('../../workflows/tls-rotate.js')
    const {runTasks} = await import('../../cli/tasks.js')
    const {requireClusterName} = await import('../../workflows/pods.js')
    const target = await openTarget(options, {operation: 'tls-rotate'})
    const name = await requireClusterName(target, 'redisctl keeps the CA of a TLS cluster in a Secret named after its StatefulSet')
    const cluster = await openCluster(options, target)
    const ctx: RotateContext = {cluster, name, timeoutMs: flags.timeout * 1000, secret: '', issued: false, reloaded: []}
    try {
      ctx.secret = tlsSecretOf(cluster)
      await runTasks(rotateTasks(), ctx, this)
    } finally {
      await cluster.access.close()
    }
    const wanted = ctx.wanted!
    this.log(`${plural(ctx.reloaded.length, 'node')} ${agree(ctx.reloaded.length, 'serves', 'serve')} the certificate of Secret ${ctx.secret} (valid until ${wanted.notAfter}); no node restarted.`)
    return this.withSessionWarnings({
      namespace: target.kube.namespace, secret: ctx.secret, issued: ctx.issued, fingerprint: wanted.fingerprint, notAfter: wanted.notAfter,
      reloaded: ctx.reloaded, warnings: [],
    }, target.kube.warnings.all)
  }
}

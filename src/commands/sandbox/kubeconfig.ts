import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {sandboxDirFlag} from '../../cli/sandbox-flags.js'
import {UsageError} from '../../errors.js'
import {currentSandboxDir} from '../../sandbox/paths.js'
import type {ServiceAccountKubeconfig} from '../../sandbox/service-account.js'

export default class SandboxKubeconfig extends BaseCommand {
  static override summary = 'Write a kubeconfig that acts as a ServiceAccount of the sandbox, as a CI job would.'
  static override description = `Creates the namespace and the ServiceAccount when they are missing, requests a token for it (TokenRequest, as kubectl create token does) and writes a kubeconfig presenting it. The ServiceAccount gets no rights here: bind the Role redisctl needs with redisctl rbac -n NAMESPACE --service-account NAME | kubectl apply -f - (with the admin kubeconfig). The token is written to the file only (mode 0600), never printed.`
  static override examples = [
    '<%= config.bin %> sandbox kubeconfig --service-account ci -n ci',
    '<%= config.bin %> sandbox kubeconfig --service-account ci -n ci --output ci.kubeconfig --duration 2h',
  ]

  static override flags = {
    ...sandboxDirFlag,
    'service-account': Flags.string({description: 'Name of the ServiceAccount.', required: true}),
    namespace: Flags.string({char: 'n', description: 'Namespace of the ServiceAccount.', default: 'default'}),
    output: Flags.string({description: 'Where to write the kubeconfig (default: kubeconfig-NAMESPACE-NAME in the sandbox\'s folder).'}),
    duration: Flags.string({description: 'How long the token is valid, e.g. 1h, 30m, 2h30m (at least 10m).', default: '1h'}),
  }

  async run(): Promise<ServiceAccountKubeconfig> {
    const {flags} = await this.parse(SandboxKubeconfig)
    const {writeServiceAccountKubeconfig} = await import('../../sandbox/service-account.js')
    const result = await writeServiceAccountKubeconfig(currentSandboxDir(flags.dir), {
      namespace: flags.namespace, serviceAccount: flags['service-account'], output: flags.output, expirationSeconds: parseDuration(flags.duration),
    })
    this.log(`Wrote a kubeconfig for ${result.user}, valid until ${result.expiresAt}: ${result.kubeconfig}`)
    this.log(`It has no rights yet; as the admin: redisctl rbac -n ${result.namespace} --service-account ${result.serviceAccount} | kubectl apply -f -`)
    this.log(`export KUBECONFIG=${result.kubeconfig}`)
    return result
  }
}

/** Go's duration syntax as kubectl's --duration takes it, in whole seconds. */
function parseDuration(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text)
  if (!text || !match) throw new UsageError(`--duration takes a duration like 1h, 30m or 2h30m, got "${text}".`)
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)
}

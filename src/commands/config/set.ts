import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../../cli/flags.js'
import type {ConfigSetReport} from '../../workflows/config.js'

export type ConfigSetResult = ConfigSetReport

export default class ConfigSet extends BaseCommand {
  static override summary = 'Change a Redis setting on every node at once, and in the cluster\'s ConfigMap so that a restart keeps it.'
  static override description = `CONFIG SET on every node, and the same line in the redis.conf of the ConfigMap the pods start from. One node takes it first: a value Redis refuses is refused with nothing changed (exit 2). Every node must answer (exit 4 otherwise); one still loading its data is waited for, up to --timeout. Running it again changes nothing that is already so.

Refused with nothing changed (exit 2): a setting Redis cannot change while it runs (cluster-enabled, databases, dir, appendfilename, io-threads, ... as Redis 7.0 marks them immutable or protected), with the redisctl rollout --set that restarts the pods with it; passwords (requirepass, masterauth) and TLS key and certificate files, which come from Secrets and would otherwise land in the ConfigMap; settings each pod has its own value of (port, bind, cluster-announce-*).`
  static override examples = [
    '<%= config.bin %> config set maxmemory-policy allkeys-lru',
    '<%= config.bin %> config set slowlog-log-slower-than 5000 --dry-run',
  ]

  static override args = {
    key: Args.string({description: 'The setting.', required: true}),
    value: Args.string({description: 'Its new value (quote it when it has spaces, e.g. save "3600 1 300 100").', required: true}),
  }

  static override flags = {...kubeFlags, ...redisFlags, 'dry-run': actionFlags['dry-run'], timeout: actionFlags.timeout}

  async run(): Promise<ConfigSetResult> {
    const {args, flags} = await this.parse(ConfigSet)
    const {setConfig} = await import('../../workflows/config.js')
    const report = await setConfig(this.targetOptions(flags), args.key, args.value, {dryRun: flags['dry-run'], timeoutMs: flags.timeout * 1000})
    const changing = report.nodes.filter((n) => n.changed)
    const verb = report.dryRun ? 'Would set' : 'Set'
    if (changing.length === 0 && !report.configMapChanged) this.log(`Every node runs ${report.key} ${report.value} already, and the ConfigMap ${report.configMap} says so.`)
    else {
      if (changing.length > 0) this.log(`${verb} ${report.key} ${report.value} on ${changing.map((n) => `${n.pod} (was ${n.before})`).join(', ')}.`)
      if (report.configMapChanged) this.log(`${report.dryRun ? 'Would write' : 'Wrote'} ${report.key} ${report.value} into the redis.conf of ConfigMap ${report.configMap}: a restarted pod keeps it.`)
    }
    return this.withSessionWarnings<ConfigSetResult>({...report, warnings: []}, report.warnings)
  }
}

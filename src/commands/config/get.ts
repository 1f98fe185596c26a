import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {kubeFlags, redisFlags} from '../../cli/flags.js'
import {renderTable} from '../../cli/table.js'
import type {ConfigGetReport} from '../../workflows/config.js'

export type ConfigGetResult = ConfigGetReport

export default class ConfigGet extends BaseCommand {
  static override summary = 'Show a Redis setting on every node and in the cluster\'s ConfigMap, with the differences.'
  static override description = `CONFIG GET on every node (a pattern such as 'maxmemory*' works as in Redis), beside the value the ConfigMap's redis.conf gives it. A node that runs another value than the others, or than the ConfigMap, is marked. Passwords and TLS key files are never shown.`
  static override examples = ['<%= config.bin %> config get maxmemory-policy', '<%= config.bin %> config get \'cluster-*\' --json']
  static override args = {key: Args.string({description: 'The setting (or a CONFIG GET pattern).', required: true})}
  static override flags = {...kubeFlags, ...redisFlags}

  async run(): Promise<ConfigGetResult> {
    const {args, flags} = await this.parse(ConfigGet)
    const {getConfig} = await import('../../workflows/config.js')
    const report = await getConfig(this.targetOptions(flags), args.key)
    const rows = report.settings.flatMap((s) => s.nodes.map((n) => [s.key, n.pod, n.value === '' ? '""' : n.value,
      s.configMap === undefined ? '(not set: default)' : s.configMap, n.differs ? 'yes' : '']))
    this.log(renderTable(['setting', 'pod', 'value', 'configmap', 'differs'], rows))
    for (const s of report.settings.filter((s) => !s.agreed || s.matchesConfigMap === false)) {
      this.log(`\n${s.key}: ${s.agreed ? `every node runs ${s.nodes[0].value}, the ConfigMap says ${s.configMap}` : 'the nodes disagree'}: redisctl config set ${s.key} VALUE sets every node and the ConfigMap.`)
    }
    if (!report.configMapFound) {
      this.log(`\n${report.configMap ? `No ConfigMap ${report.configMap} could be read` : 'No StatefulSet owns the pods, so redisctl keeps no ConfigMap for them'}: the values are the nodes' alone.`)
    }
    if (report.silent.length > 0) this.log(`\nDid not answer: ${report.silent.join(', ')}.`)
    return this.withSessionWarnings<ConfigGetResult>({...report, warnings: []}, report.warnings)
  }
}


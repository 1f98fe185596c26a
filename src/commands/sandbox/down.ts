import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {sandboxDirFlag} from '../../cli/sandbox-flags.js'
import type {DownResult} from '../../sandbox/lifecycle.js'
import {currentSandboxDir} from '../../sandbox/paths.js'

export default class SandboxDown extends BaseCommand {
  static override summary = 'Stop the sandbox: its API server and every redis-server it started.'
  static override examples = ['<%= config.bin %> sandbox down', '<%= config.bin %> sandbox down --purge']

  static override flags = {
    ...sandboxDirFlag,
    purge: Flags.boolean({description: 'Also delete the sandbox\'s state: volumes (Redis data), logs, kubeconfig.', default: false}),
  }

  async run(): Promise<DownResult> {
    const {flags} = await this.parse(SandboxDown)
    const {sandboxDown} = await import('../../sandbox/lifecycle.js')
    const result = await sandboxDown(currentSandboxDir(flags.dir), {purge: flags.purge, timeoutMs: 20_000})
    this.log(result.wasRunning ? 'The sandbox is stopped.' : 'The sandbox was not running.')
    if (result.purged) this.log(`Removed ${result.dir}.`)
    return result
  }
}

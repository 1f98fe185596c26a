import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {json, runCli, type CliResult} from './cli.js'

export interface TestSandbox {
  dir: string
  kubeconfig: string
  server: string
  /** Runs redisctl against this sandbox (KUBECONFIG set). */
  cli(args: string[], options?: {env?: Record<string, string | undefined>; timeoutMs?: number}): Promise<CliResult>
  down(): Promise<void>
}

/** A sandbox of its own for a test file, started and stopped through the CLI like a user would. */
export async function startSandbox(options: {nodes?: number; zones?: number} = {}): Promise<TestSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'redisctl-sandbox-'))
  const up = await runCli(['sandbox', 'up', '--dir', dir, '--nodes', String(options.nodes ?? 3), '--zones', String(options.zones ?? 3), '--json'])
  if (up.code !== 0) throw new Error(`sandbox up failed (${up.code}): ${up.stdout}${up.stderr}`)
  const {kubeconfig, server} = json<{kubeconfig: string; server: string}>(up)
  return {
    dir,
    kubeconfig,
    server,
    cli: (args, opts = {}) => runCli(args, {...opts, env: {KUBECONFIG: kubeconfig, ...opts.env}}),
    async down() {
      const down = await runCli(['sandbox', 'down', '--dir', dir, '--purge', '--json'])
      if (down.code !== 0) throw new Error(`sandbox down failed: ${down.stdout}${down.stderr}`)
    },
  }
}

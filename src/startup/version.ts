import {arch, platform, release} from 'node:os'

/**
 * `redisctl --version` as oclif prints it (Config.userAgent), without loading oclif: a CI job's version probe costs
 * Node's start-up and nothing more (bench/README.md#start-up). Undefined where oclif must answer: any other command
 * line, and WSL, which oclif detects with a package of its own.
 */
export function versionLine(argv: readonly string[], pjson: {name: string; version: string}): string | undefined {
  if (argv[0] !== '--version') return undefined
  if (platform() === 'linux' && release().toLowerCase().includes('microsoft')) return undefined
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  return `${pjson.name}/${pjson.version} ${platform()}-${cpu} node-${process.version}`
}

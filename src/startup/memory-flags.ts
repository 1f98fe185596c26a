/**
 * A command that moves keys observes the cluster again and again while it waits (pods, nodes agreeing, replicas in
 * sync), and V8 lets that garbage pile up in a generous heap: `scale --masters 3` from 4x1 peaked at 198 MB RSS with
 * Node's defaults and 127 MB with these flags, moving no key at all (bench/README.md "Rebalance"; the keys themselves
 * move inside Redis, slot-scripts.ts). A command that moves no keys only pays for them (more garbage collection
 * while it loads), so only commands marked `movesKeys` get them. V8 reads them only at start-up (v8.setFlagsFromString comes too late,
 * and NODE_OPTIONS refuses --optimize-for-size), so the process re-executes itself once with them, keeping its pid,
 * stdio and signals.
 */
export const MEMORY_FLAGS = ['--max-semi-space-size=4', '--optimize-for-size'] as const

export interface ProcessStart {
  execPath: string
  /** process.argv: in a single executable application the user's arguments also start at index 2. */
  argv: readonly string[]
  execArgv: readonly string[]
  nodeOptions?: string
  /** Inside a single executable application, Node's own flags go in one --node-options argument. */
  sea: boolean
}

/** The oclif manifest's commands, as far as this needs them. */
export type CommandManifest = Record<string, {movesKeys?: boolean}>

/**
 * The argv to re-execute with the memory flags, or undefined to run as started: the command moves no keys, or
 * the user chose either flag already.
 */
export function memoryFlagsArgv(start: ProcessStart, commands: CommandManifest): string[] | undefined {
  if (!commands[commandId(start.argv.slice(2), commands) ?? '']?.movesKeys) return undefined
  const given = [...start.execArgv, ...(start.nodeOptions ?? '').split(/\s+/)]
    .some((arg) => MEMORY_FLAGS.some((flag) => arg.startsWith(flag.split('=')[0])))
  if (given) return undefined
  if (start.sea) return [start.execPath, `--node-options=${[...MEMORY_FLAGS, ...start.execArgv].join(' ')}`, ...start.argv.slice(2)]
  return [start.execPath, ...MEMORY_FLAGS, ...start.execArgv, ...start.argv.slice(1)]
}

/** The longest run of leading words that names a command (`slots rebalance` or `slots:rebalance`). */
function commandId(args: readonly string[], commands: CommandManifest): string | undefined {
  const words: string[] = []
  for (const arg of args) {
    if (arg.startsWith('-')) break
    words.push(...arg.split(':'))
  }
  for (let n = words.length; n > 0; n--) {
    const id = words.slice(0, n).join(':')
    if (commands[id]) return id
  }
  return undefined
}

/**
 * Moving slots allocates fast, and a young generation of Node's default size (32 MB semi-spaces here) then holds
 * tens of MB of garbage: 235 MB RSS moving 250k of 1M keys with Node's defaults, 186 MB with 4 MB semi-spaces,
 * for the same CPU. --optimize-for-size took it to 128 MB but spent a third of the command's time collecting garbage
 * (bench/README.md#memory), so it is not used. A command that moves no keys only pays for the flag (more
 * collections while it loads), so only commands marked `movesKeys` get it. V8 sizes the young generation only at
 * start-up (v8.setFlagsFromString comes too late), so the process re-executes itself once with it, keeping its
 * pid, stdio and signals.
 */
export const MEMORY_FLAGS = ['--max-semi-space-size=4'] as const

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
 * the user chose the flag already.
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

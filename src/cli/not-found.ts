import {Errors, type Hook, toConfiguredId} from '@oclif/core'

import {ExitCode} from '../errors.js'

/** Edits (insert, delete, replace, swap of neighbours) from one word to another: how far a typo is. */
export function typoDistance(a: string, b: string): number {
  const d = Array.from({length: a.length + 1}, (_, i) => Array.from({length: b.length + 1}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/** The commands closest to a mistyped one, closest first; none when every command is too far off to be meant. */
export function didYouMean(typed: string, commands: readonly string[]): string[] {
  const scored = commands.map((id) => ({id, distance: typoDistance(typed, id)})).sort((x, y) => x.distance - y.distance || x.id.localeCompare(y.id))
  const best = scored[0]?.distance ?? Number.POSITIVE_INFINITY
  return best <= Math.max(2, Math.floor(typed.length / 3)) ? scored.filter((s) => s.distance === best).map((s) => s.id) : []
}

/**
 * oclif's command_not_found hook: a usage error (2) that names the commands meant, as text or, under --json, in
 * the same {"error": ...} shape as every other error. (@oclif/plugin-not-found offers the same only on a
 * terminal, by asking, and exits 127 elsewhere, where scripts need the documented 2.)
 */
export const commandNotFound: Hook.CommandNotFound = async function (opts) {
  const shown = (id: string): string => `${opts.config.bin} ${toConfiguredId(id, opts.config)}`
  const meant = didYouMean(opts.id, opts.config.commandIDs)
  const message = `${shown(opts.id)} is not a command.${meant.length > 0 ? ` Did you mean ${meant.map(shown).join(' or ')}?` : ''}`
  const suggestions = [`${opts.config.bin} --help lists the commands.`]
  if (opts.argv?.includes('--json')) {
    process.stdout.write(`${JSON.stringify({error: {kind: 'usage', message, suggestions, exitCode: ExitCode.usage}}, null, 2)}\n`)
    this.exit(ExitCode.usage)
  }
  throw new Errors.CLIError(message, {exit: ExitCode.usage, suggestions})
}

import {createInterface} from 'node:readline/promises'

import {UsageError} from '../errors.js'

/**
 * Asks before a destructive step. --yes answers for the user; without a terminal nobody can answer, so the
 * command refuses instead of hanging or guessing.
 */
export async function confirm(question: string, options: {yes: boolean; action: string}): Promise<boolean> {
  if (options.yes) return true
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError(`Refusing to ${options.action} without confirmation: there is no terminal to ask on.`, [
      'Pass --yes to confirm.',
    ])
  }
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    const answer = await rl.question(`${question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}

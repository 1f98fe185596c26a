import {randomBytes, randomUUID} from 'node:crypto'

// apimachinery's utilrand alphabet: no vowels (no accidental words) and no look-alike characters.
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'

/** A generateName suffix as SimpleNameGenerator makes it: 5 random characters, the prefix cut to fit 63. */
export function generateName(prefix: string): string {
  const bytes = randomBytes(5)
  const suffix = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('')
  return `${prefix.slice(0, 58)}${suffix}`
}

export const newUid = (): string => randomUUID()

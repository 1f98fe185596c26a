export type RendererName = 'default' | 'simple' | 'silent'

export interface OutputEnvironment {
  json: boolean
  isTTY: boolean
  /** Set by CI systems (CI=true): their logs want one plain line per step, not a redrawn screen. */
  ci: boolean
}

/** --json keeps stdout pure JSON; a terminal gets the live task list; pipes and CI get plain lines. */
export function chooseRenderer(env: OutputEnvironment): RendererName {
  if (env.json) return 'silent'
  if (!env.isTTY || env.ci) return 'simple'
  return 'default'
}

export function currentOutputEnvironment(json: boolean): OutputEnvironment {
  const ci = Boolean(process.env.CI) && process.env.CI !== 'false'
  return {json, isTTY: Boolean(process.stdout.isTTY), ci}
}

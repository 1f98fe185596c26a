/** resource.Quantity as a number: `500m` is 0.5, `1Gi` is 2^30, `2e3` is 2000; undefined when it is not a quantity. */
export function parseQuantity(quantity: string | number | undefined): number | undefined {
  if (typeof quantity === 'number') return quantity
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([KMGTPE]i|[numkMGTPE])|[eE]([+-]?\d+))?$/.exec(quantity?.trim() ?? '')
  if (!match) return undefined
  const [, number, suffix, exponent] = match
  const scale = exponent !== undefined ? 10 ** Number(exponent) : suffix ? SCALES[suffix] : 1
  return Number(number) * scale
}

const SCALES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
}

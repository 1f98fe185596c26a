/**
 * Runs fn over the items with at most `limit` running at once. After the first failure no new item starts;
 * the ones running are awaited, so nothing keeps talking to Redis once this returns, and the first error is thrown.
 */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failure: {error: unknown} | undefined
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++]
      try {
        await fn(item)
      } catch (error) {
        failure ??= {error}
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  if (failure) throw failure.error
}

/**
 * A keyed work queue in the manner of client-go's workqueue: a key added many times while it waits runs once,
 * a key is never handled by two workers at once (added while running, it runs again afterwards), and a failing
 * key is retried with a growing delay. Bursts of watch events therefore cost one reconcile per object.
 */
export interface WorkQueueOptions {
  /** How many keys are handled at the same time. */
  concurrency?: number
  /** Called with every error a handler throws; the key is then retried later. */
  onError?: (key: string, error: unknown) => void
}

/** A handler may return a delay in ms after which its key should be looked at again (e.g. minReadySeconds). */
export type Reconcile = (key: string) => Promise<number | void>

const FIRST_RETRY_MS = 20
const MAX_RETRY_MS = 2000

export class WorkQueue {
  private readonly waiting = new Set<string>()
  private readonly running = new Set<string>()
  private readonly dirty = new Set<string>()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly failures = new Map<string, number>()
  private readonly inFlight = new Set<Promise<void>>()
  private readonly concurrency: number
  private stopped = false

  constructor(
    private readonly reconcile: Reconcile,
    private readonly options: WorkQueueOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 4
  }

  add(key: string): void {
    if (this.stopped) return
    if (this.running.has(key)) {
      this.dirty.add(key)
      return
    }
    this.waiting.add(key)
    this.pump()
  }

  /** Adds the key after a delay; an earlier delayed add of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped || this.timers.has(key)) return
    const timer = setTimeout(() => {
      this.timers.delete(key)
      this.add(key)
    }, delayMs)
    this.timers.set(key, timer)
  }

  /** True when nothing is waiting, running or scheduled. */
  get idle(): boolean {
    return this.waiting.size === 0 && this.running.size === 0 && this.timers.size === 0
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    this.waiting.clear()
    this.dirty.clear()
    await Promise.allSettled([...this.inFlight])
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.concurrency && this.waiting.size > 0) {
      const key = this.waiting.values().next().value as string
      this.waiting.delete(key)
      this.running.add(key)
      const run = this.run(key)
      this.inFlight.add(run)
      void run.finally(() => this.inFlight.delete(run))
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const requeueAfter = await this.reconcile(key)
      this.failures.delete(key)
      if (typeof requeueAfter === 'number') this.addAfter(key, requeueAfter)
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1
      this.failures.set(key, failures)
      this.options.onError?.(key, error)
      this.addAfter(key, Math.min(FIRST_RETRY_MS * 2 ** (failures - 1), MAX_RETRY_MS))
    } finally {
      this.running.delete(key)
      if (this.dirty.delete(key)) this.waiting.add(key)
      this.pump()
    }
  }
}

import type {Duplex} from 'node:stream'

import type {WebSocket} from 'ws'

/** The connections a server keeps open for long-lived streams (port-forwards), so that closing it ends them all. */
export class OpenStreams {
  private readonly open = new Set<Duplex | WebSocket>()

  track<T extends Duplex | WebSocket>(s: T): T {
    this.open.add(s)
    s.once('close', () => this.open.delete(s))
    return s
  }

  endAll(): void {
    for (const s of this.open) {
      if ('terminate' in s) s.terminate()
      else s.destroy()
    }
    this.open.clear()
  }
}

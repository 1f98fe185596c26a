import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import {PreconditionError} from '../../errors.js'
import {addressAt, type IpRange} from './ip-range.js'

interface AllocatorState {
  /** Next unused position per range: a pod IP is never handed out twice, even across kubelet restarts. */
  next: Record<string, number>
  /** The IP of each live pod incarnation (uid), so that a kubelet restart keeps the pod's address. */
  leases: Record<string, string>
}

/** Pod IPs for pod incarnations, persisted in one JSON file written atomically. */
export class IpAllocator {
  private state: AllocatorState = {next: {}, leases: {}}
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly file: string,
    private readonly range: IpRange,
  ) {}

  static async open(file: string, range: IpRange): Promise<IpAllocator> {
    const allocator = new IpAllocator(file, range)
    try {
      const saved = JSON.parse(await readFile(file, 'utf8')) as Partial<AllocatorState>
      allocator.state = {next: saved.next ?? {}, leases: saved.leases ?? {}}
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    return allocator
  }

  /** The pod's IP: its existing lease, or the next never-used address of the range. */
  acquire(uid: string): Promise<string> {
    return this.serialised(async () => {
      const leased = this.state.leases[uid]
      if (leased) return leased
      const index = this.state.next[this.range.cidr] ?? 0
      const ip = addressAt(this.range, index)
      if (!ip) {
        throw new PreconditionError(`The pod IP range ${this.range.cidr} is used up.`, [
          'Give the kubelet a wider or different ipRange, or a fresh state directory.',
        ])
      }
      this.state.next[this.range.cidr] = index + 1
      this.state.leases[uid] = ip
      await this.save()
      return ip
    })
  }

  /** Forgets the leases of incarnations that are gone; their addresses stay retired. */
  release(uids: Iterable<string>): Promise<void> {
    return this.serialised(async () => {
      let changed = false
      for (const uid of uids) {
        if (uid in this.state.leases) {
          delete this.state.leases[uid]
          changed = true
        }
      }
      if (changed) await this.save()
    })
  }

  leasedUids(): string[] {
    return Object.keys(this.state.leases)
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work)
    this.queue = result.catch(() => undefined)
    return result
  }

  private async save(): Promise<void> {
    await mkdir(dirname(this.file), {recursive: true})
    const temporary = `${this.file}.${process.pid}.tmp`
    await writeFile(temporary, JSON.stringify(this.state))
    await rename(temporary, this.file)
  }
}

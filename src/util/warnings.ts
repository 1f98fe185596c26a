/**
 * What a command should tell the user once, however often its cause comes back (every pod list of a wait reads the
 * nodes): keyed, so a repeat replaces nothing. Commands print them and put them in their typed result's `warnings`.
 */
export class Warnings {
  private readonly byKey = new Map<string, string>()

  add(key: string, message: string): void {
    if (!this.byKey.has(key)) this.byKey.set(key, message)
  }

  has(key: string): boolean {
    return this.byKey.has(key)
  }

  get all(): string[] {
    return [...this.byKey.values()]
  }
}

/**
 * `redisctl status | head -1`: once the reader has gone, every write fails with EPIPE, and oclif's final flush waits
 * for a 'drain' that never comes: the process ran out of work with its top-level await unsettled (exit 13 and a
 * warning, in about one run in three). From the first EPIPE on, output to that stream is dropped instead, and the
 * command ends as it would have with its reader still there: exit 0 for a read that succeeded, and a command that
 * changes the cluster finishes its work rather than stopping half-way.
 */
export function dropOutputOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    stream.write = discard as typeof stream.write
    // A write that failed before this leaves its caller waiting for 'drain' (oclif's flush does).
    stream.emit('drain')
  })
}

function discard(...args: unknown[]): boolean {
  const callback = args.at(-1)
  if (typeof callback === 'function') process.nextTick(callback)
  return true
}

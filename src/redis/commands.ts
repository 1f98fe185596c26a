import {type Redis, ReplyError} from 'ioredis'

import {PreconditionError, type RedisctlError} from '../errors.js'
import {addressKey, connectionError, type NodeAddress} from './connection.js'

export type Arg = string | number | Buffer
export type Reply = {ok: true; value: unknown} | {ok: false; error: Error}

/** True when Redis answered with an error, as opposed to the link failing. */
export const isReplyError = (error: unknown): error is Error => error instanceof ReplyError

/**
 * A failed command as a typed error: a refusal by the node is a precondition the user can look into (the
 * cluster is not in the state the step needs); anything else means the node could not be reached.
 */
export function commandFailed(addr: NodeAddress, what: string, error: unknown, client?: Redis): RedisctlError {
  if (isReplyError(error)) return new PreconditionError(`Redis at ${addressKey(addr)} refused ${what}: ${error.message}`)
  return connectionError(addr, error, client?.options.commandTimeout) as RedisctlError
}

/**
 * Sends the commands in one pipeline and returns each reply. Redis saves cluster config changes once per
 * event-loop turn, so many CLUSTER SETSLOTs sent together share one nodes.conf write.
 */
export async function pipelined(client: Redis, addr: NodeAddress, commands: readonly Arg[][], replies: 'strings' | 'buffers' = 'strings'): Promise<Reply[]> {
  if (commands.length === 0) return []
  let results: [Error | null, unknown][] | null
  try {
    const pipeline = client.pipeline()
    for (const [name, ...args] of commands) {
      if (replies === 'buffers') pipeline.callBuffer(String(name), ...args)
      else pipeline.call(String(name), ...args)
    }
    results = await pipeline.exec()
  } catch (error) {
    throw commandFailed(addr, `${commands.length} pipelined ${String(commands[0][0])} commands`, error, client)
  }
  if (!results) throw commandFailed(addr, 'a pipeline', new Error('the pipeline was discarded'))
  return results.map(([error, value]) => {
    if (error && !isReplyError(error)) throw commandFailed(addr, String(commands[0][0]), error, client)
    return error ? {ok: false, error} : {ok: true, value}
  })
}

/** Like pipelined, but every command must succeed. */
export async function pipelinedOk(client: Redis, addr: NodeAddress, commands: readonly Arg[][], what: string): Promise<unknown[]> {
  const replies = await pipelined(client, addr, commands)
  const failed = replies.findIndex((r) => !r.ok)
  if (failed >= 0) {
    const reply = replies[failed] as {ok: false; error: Error}
    throw commandFailed(addr, `${what} (${commands[failed].join(' ')})`, reply.error)
  }
  return replies.map((r) => (r as {value: unknown}).value)
}

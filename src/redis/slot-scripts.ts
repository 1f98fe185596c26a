import {createHash} from 'node:crypto'

import type {Redis} from 'ioredis'

import {type Arg, commandFailed, isReplyError, pipelined, type Reply} from './commands.js'
import type {NodeAddress} from './connection.js'

/**
 * Lua scripts that run on the node what would otherwise be one command per slot from the CLI. A slot move's
 * SETSLOTs and key moves are ~9 commands per slot, and with thousands of slots the CLI's one thread, building
 * and parsing them through ioredis and collecting their garbage, was what bounded a rebalance (bench/README.md
 * "Rebalance"). A node that refuses scripts (EVAL renamed away, an ACL user without them) gets the commands one
 * by one, as before.
 */
export interface Script {
  lua: string
  sha: string
}

const script = (lua: string): Script => ({lua, sha: createHash('sha1').update(lua).digest('hex')})

/**
 * CLUSTER SETSLOT for every slot in ARGV[3..] (state ARGV[1], node ARGV[2], none for STABLE); one reply per slot,
 * errors included, as a pipeline would give them. `no-writes`: it also runs on a master that has just turned
 * into a replica, which then refuses each SETSLOT as it would outside a script.
 */
export const SETSLOTS = script(`#!lua flags=no-writes
local out = {}
for i = 3, #ARGV do
  if ARGV[2] == '' then
    out[#out + 1] = redis.pcall('CLUSTER', 'SETSLOT', ARGV[i], ARGV[1])
  else
    out[#out + 1] = redis.pcall('CLUSTER', 'SETSLOT', ARGV[i], ARGV[1], ARGV[2])
  end
end
return out
`)

/**
 * Moves the keys of the slots in ARGV[6..] to ARGV[1]:ARGV[2] (MIGRATE timeout ARGV[3], ARGV[4] keys per
 * MIGRATE), slot after slot, until ARGV[5] microseconds have passed. Returns {keys moved, slots finished} and a
 * third element when the next slot's MIGRATE was refused or found none of its keys: that slot is left to the CLI,
 * which knows how to recover. A slot is finished when GETKEYSINSLOT comes back short: inside the script nothing
 * can write in between, so it is empty. `allow-oom`: moving keys off a node out of memory is what relieves it.
 */
export const DRAIN = script(`#!lua flags=allow-cross-slot-keys,allow-oom
local host, port, timeout, count = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local function micros()
  local t = redis.call('TIME')
  return t[1] * 1000000 + t[2]
end
local deadline = micros() + tonumber(ARGV[5])
local moved, done = 0, 0
for i = 6, #ARGV do
  local finished
  repeat
    local keys = redis.call('CLUSTER', 'GETKEYSINSLOT', ARGV[i], count)
    if #keys > 0 then
      local reply = redis.pcall('MIGRATE', host, port, '', 0, timeout, 'KEYS', unpack(keys))
      if reply.err or reply.ok == 'NOKEY' then return {moved, done, 1} end
      moved = moved + #keys
    end
    finished = #keys < count
    if finished then done = done + 1 end
    if micros() > deadline then return {moved, done} end
  until finished
end
return {moved, done}
`)

/**
 * How long one drain call goes on starting MIGRATEs: half the default slowlog-log-slower-than (10 ms), so that a
 * call is not logged for its own length, and short enough for the node to answer its clients and cluster bus between
 * calls. A MIGRATE that waits on a busy target (or carries large values) can still pass 10 ms, and is then logged,
 * with the call around it, as it would be from redis-cli.
 */
export const DRAIN_BUDGET_US = 5000

/** Connections whose node refused scripts: they are not asked again. */
const refusing = new WeakSet<Redis>()

/**
 * Runs the script (EVALSHA, loading it on NOSCRIPT) and returns its reply, or undefined when the node does not run
 * scripts for this user. Other errors are thrown as typed errors.
 */
export async function runScript(client: Redis, addr: NodeAddress, {lua, sha}: Script, args: readonly Arg[]): Promise<unknown> {
  if (refusing.has(client)) return undefined
  try {
    try {
      return await client.call('EVALSHA', sha, 0, ...args)
    } catch (error) {
      if (!(isReplyError(error) && /^NOSCRIPT/.test(error.message))) throw error
      return await client.call('EVAL', lua, 0, ...args)
    }
  } catch (error) {
    if (isReplyError(error) && /^NOPERM|unknown command/i.test(error.message)) {
      refusing.add(client)
      return undefined
    }
    throw commandFailed(addr, 'a Lua script of slot moves', error, client)
  }
}

/** CLUSTER SETSLOT for each slot, one reply per slot in their order: in one script, or one pipeline where scripts are refused. */
export async function setSlots(client: Redis, addr: NodeAddress, slots: readonly number[], state: 'IMPORTING' | 'MIGRATING' | 'NODE' | 'STABLE',
  nodeId?: string): Promise<Reply[]> {
  if (slots.length === 0) return []
  const replies = await runScript(client, addr, SETSLOTS, [state, nodeId ?? '', ...slots]) as unknown[] | undefined
  if (replies) return replies.map((value) => (value instanceof Error ? {ok: false, error: value} : {ok: true, value}))
  return pipelined(client, addr, slots.map((s) => ['CLUSTER', 'SETSLOT', s, state, ...(nodeId ? [nodeId] : [])]))
}

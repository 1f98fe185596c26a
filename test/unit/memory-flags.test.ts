import {describe, expect, it} from 'vitest'

import {memoryFlagsArgv, type ProcessStart} from '../../src/startup/memory-flags.js'

const COMMANDS = {'status': {}, 'slots:rebalance': {movesKeys: true}, 'slots:reshard': {movesKeys: true}, 'scale': {movesKeys: true}, 'node:del': {movesKeys: false}}
const NODE = '/usr/bin/node'
const started = (args: string[], more: Partial<ProcessStart> = {}): ProcessStart =>
  ({execPath: NODE, argv: [NODE, '/opt/redisctl/bin/run.js', ...args], execArgv: [], sea: false, ...more})

describe('the memory flags a command starts with', () => {
  it('a command that moves keys re-executes node with both flags before the script and its arguments', () => {
    expect(memoryFlagsArgv(started(['slots', 'rebalance', '--yes']), COMMANDS))
      .toEqual([NODE, '--max-semi-space-size=4', '--optimize-for-size', '/opt/redisctl/bin/run.js', 'slots', 'rebalance', '--yes'])
  })

  it('finds the command written with a colon too', () => {
    expect(memoryFlagsArgv(started(['slots:reshard', '--from', 'a']), COMMANDS)).toContain('--optimize-for-size')
  })

  it('keeps the flags node was started with after the memory flags', () => {
    expect(memoryFlagsArgv(started(['scale', '--masters', '4'], {execArgv: ['--enable-source-maps']}), COMMANDS))
      .toEqual([NODE, '--max-semi-space-size=4', '--optimize-for-size', '--enable-source-maps', '/opt/redisctl/bin/run.js', 'scale', '--masters', '4'])
  })

  it('status, a command that moves no keys, and no command at all run as started', () => {
    expect(memoryFlagsArgv(started(['status']), COMMANDS)).toBeUndefined()
    expect(memoryFlagsArgv(started(['node', 'del', 'redis-cluster-5']), COMMANDS)).toBeUndefined()
    expect(memoryFlagsArgv(started(['--version']), COMMANDS)).toBeUndefined()
  })

  it('a flag value that looks like a command does not count: the command is the words before the first flag', () => {
    expect(memoryFlagsArgv(started(['status', '--name', 'scale']), COMMANDS)).toBeUndefined()
  })

  it('the user\'s own choice of either flag wins, on the command line or in NODE_OPTIONS', () => {
    expect(memoryFlagsArgv(started(['scale'], {execArgv: ['--max-semi-space-size=16']}), COMMANDS)).toBeUndefined()
    expect(memoryFlagsArgv(started(['scale'], {nodeOptions: '--optimize-for-size'}), COMMANDS)).toBeUndefined()
  })

  it('the single executable passes them in one --node-options argument, then the user\'s arguments', () => {
    const sea = '/usr/local/bin/redisctl'
    expect(memoryFlagsArgv({execPath: sea, argv: [sea, 'redisctl', 'slots', 'rebalance'], execArgv: [], sea: true}, COMMANDS))
      .toEqual([sea, '--node-options=--max-semi-space-size=4 --optimize-for-size', 'slots', 'rebalance'])
  })
})

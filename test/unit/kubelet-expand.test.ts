import {describe, expect, it} from 'vitest'

import {expand} from '../../src/sandbox/kubelet/expand.js'

const vars = new Map([
  ['POD_IP', '127.64.0.7'],
  ['NAME', 'redis-0'],
])

describe('$(VAR) expansion as the kubelet does it', () => {
  it('replaces a known variable', () => {
    expect(expand('--cluster-announce-ip $(POD_IP)', vars)).toBe('--cluster-announce-ip 127.64.0.7')
  })

  it('replaces several variables in one string', () => {
    expect(expand('$(NAME)@$(POD_IP):6379', vars)).toBe('redis-0@127.64.0.7:6379')
  })

  it('leaves an unknown variable literal', () => {
    expect(expand('$(NOPE) and $(POD_IP)', vars)).toBe('$(NOPE) and 127.64.0.7')
  })

  it('turns $$(VAR) into a literal $(VAR)', () => {
    expect(expand('$$(POD_IP)', vars)).toBe('$(POD_IP)')
  })

  it('turns $$ into a single $', () => {
    expect(expand('cost: $$5', vars)).toBe('cost: $5')
  })

  it('leaves a $ that starts no reference alone', () => {
    expect(expand('$HOME $ $', vars)).toBe('$HOME $ $')
  })

  it('leaves an unterminated reference literal', () => {
    expect(expand('$(POD_IP', vars)).toBe('$(POD_IP')
  })
})

import {createHash} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {authConf, generatePassword, type UserPasswords} from '../../src/manifests/auth.js'

const hash = (p: string): string => `#${createHash('sha256').update(p).digest('hex')}`
const acl = (app: UserPasswords, replication: UserPasswords = {password: 'repl-1'}): string =>
  authConf({kind: 'acl', users: {'redisctl-admin': {password: 'admin-1'}, replication, app}})

describe('the auth include the pods load', () => {
  it('with one password: requirepass and masterauth, as before ACL users existed', () => {
    expect(authConf({kind: 'password', passwords: {password: 'p"1'}})).toBe('requirepass "p\\"1"\nmasterauth "p\\"1"\n')
  })

  it('with one password being rotated: the default user accepts both, replicas present the newest', () => {
    const conf = authConf({kind: 'password', passwords: {password: 'old', next: 'new'}})
    expect(conf).toBe(`user default on ${hash('old')} ${hash('new')} ~* &* +@all\nmasterauth "new"\n`)
  })

  it('with ACL users: the default user off, each user by the hash of its password, replicas as the replication user', () => {
    const conf = acl({password: 'app-1'})
    expect(conf.split('\n')[0]).toBe('user default off')
    expect(conf).toContain(`user redisctl-admin on ${hash('admin-1')} ~* &* +@all\n`)
    expect(conf).toContain(`user replication on ${hash('repl-1')} +psync +replconf +ping\n`)
    expect(conf).toMatch(new RegExp(`user app on ${hash('app-1')} ~\\* &\\* \\+@all -@admin -@dangerous `))
    expect(conf).toContain('masteruser replication\nmasterauth "repl-1"\n')
    expect(conf).not.toContain('admin-1')
    expect(conf).not.toContain('app-1')
  })

  it('while a user\'s rotation waits for --finish, accepts its previous password and the current one', () => {
    expect(acl({password: 'app-2', previous: 'app-1'})).toContain(`user app on ${hash('app-1')} ${hash('app-2')} `)
    expect(acl({password: 'app-1'}, {password: 'repl-1', next: 'repl-2'})).toContain('masterauth "repl-2"')
  })

  it('generates passwords of 32 characters with nothing to quote, a new one each time', () => {
    const [a, b] = [generatePassword(), generatePassword()]
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(a).not.toBe(b)
  })
})

import {describe, expect, it} from 'vitest'

import {securityFindings, type NodeSecurity} from '../../src/topology/security.js'

const now = new Date('2026-12-02T00:00:00Z')
const node = (pod: string, users: string[], openToAnyone: boolean): NodeSecurity => ({pod, users, openToAnyone})
const ACL = ['app', 'default', 'redisctl-admin', 'replication']
const findingsOf = (nodes: NodeSecurity[]) => securityFindings(nodes, now)

describe('check\'s security findings on who may connect', () => {
  it('finds nothing when every node requires a password (requirepass) or has its default user off (ACL)', () => {
    expect(findingsOf([node('r-0', ['default'], false), node('r-1', ['default'], false)])).toEqual([])
    expect(findingsOf([node('r-0', ACL, false), node('r-1', ACL, false)])).toEqual([])
  })

  it('warns that a cluster without any password lets anyone in, naming every node and how to make one that asks', () => {
    const findings = findingsOf([node('r-0', ['default'], true), node('r-1', ['default'], true)])
    expect(findings).toEqual([expect.objectContaining({code: 'no-authentication', severity: 'warning', pods: ['r-0', 'r-1']})])
    expect(findings[0].message).toContain('cluster create --acl')
  })

  it('names only the nodes that accept clients without a password when the others require one', () => {
    expect(findingsOf([node('r-0', ['default'], false), node('r-1', ['default'], true)])).toEqual([expect.objectContaining({code: 'no-authentication', pods: ['r-1']})])
  })

  it('calls the default user on with no password beside ACL users an error', () => {
    const findings = findingsOf([node('r-0', ACL, false), node('r-1', ACL, true)])
    expect(findings).toEqual([expect.objectContaining({code: 'default-user-nopass', severity: 'error', pods: ['r-1']})])
    expect(findings[0].message).toContain('ACL SETUSER default off')
  })

  it('says nothing of nodes it could not ask', () => {
    expect(findingsOf([{pod: 'r-0'}])).toEqual([])
  })
})

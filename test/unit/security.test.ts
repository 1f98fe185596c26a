import {describe, expect, it} from 'vitest'

import {securityFindings, type NodeAuth} from '../../src/topology/security.js'

const node = (pod: string, users: string[], defaultUser: NodeAuth['defaultUser']): NodeAuth => ({pod, users, defaultUser})
const open = {enabled: true, nopass: true}
const off = {enabled: false, nopass: false}
const withPassword = {enabled: true, nopass: false}
const ACL = ['app', 'default', 'redisctl-admin', 'replication']

describe('check\'s security findings', () => {
  it('finds nothing when every node requires a password (requirepass) or has its default user off (ACL)', () => {
    expect(securityFindings([node('r-0', ['default'], withPassword), node('r-1', ['default'], withPassword)])).toEqual([])
    expect(securityFindings([node('r-0', ACL, off), node('r-1', ACL, off)])).toEqual([])
  })

  it('warns that a cluster without any password lets anyone in, naming every node', () => {
    const findings = securityFindings([node('r-0', ['default'], open), node('r-1', ['default'], open)])
    expect(findings).toEqual([expect.objectContaining({code: 'no-authentication', severity: 'warning', pods: ['r-0', 'r-1']})])
    expect(findings[0].message).toMatch(/^Every node \(2\) accept any client without a password/)
    expect(findings[0].message).toContain('cluster create --acl')
  })

  it('names only the nodes that accept clients without a password when the others require one', () => {
    const findings = securityFindings([node('r-0', ['default'], withPassword), node('r-1', ['default'], open)])
    expect(findings).toEqual([expect.objectContaining({code: 'no-authentication', pods: ['r-1']})])
    expect(findings[0].message).toMatch(/^r-1 accepts any client/)
  })

  it('calls the default user on with no password beside ACL users an error', () => {
    const findings = securityFindings([node('r-0', ACL, off), node('r-1', ACL, open)])
    expect(findings).toEqual([expect.objectContaining({code: 'default-user-nopass', severity: 'error', pods: ['r-1']})])
    expect(findings[0].message).toContain('ACL SETUSER default off')
  })

  it('says nothing of nodes it could not ask', () => {
    expect(securityFindings([])).toEqual([])
  })
})

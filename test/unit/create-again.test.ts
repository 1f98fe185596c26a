import {describe, expect, it} from 'vitest'

import {statefulSet, type ClusterSpec} from '../../src/manifests/cluster.js'
import {reconcileSpec, runningSettings, type SpecFlag} from '../../src/manifests/differences.js'

const SPEC: ClusterSpec = {name: 'redis-cluster', namespace: 'default', masters: 3, replicasPerMaster: 1, image: 'redis:7.0', storage: '1Gi'}

/** What a second create would apply over a StatefulSet made from `made`, asked for `asked` with the flags `given`. */
const again = (made: Partial<ClusterSpec>, asked: Partial<ClusterSpec>, given: SpecFlag[] = []) =>
  reconcileSpec({...SPEC, ...asked}, new Set(given), runningSettings(statefulSet({...SPEC, ...made})))

describe('cluster create over a StatefulSet that runs', () => {
  it('finds nothing to change when asked for what it runs with', () => {
    expect(again({memory: '512Mi', withAuth: true}, {memory: '512Mi', withAuth: true}, ['memory'])).toEqual({
      spec: {...SPEC, memory: '512Mi', withAuth: true}, differences: [],
    })
  })

  it('keeps what the cluster runs with for a flag left out (the image and memory it was made with)', () => {
    const {spec, differences} = again({image: 'redis:7.2', memory: '1Gi'}, {})
    expect(differences).toEqual([])
    expect(spec).toMatchObject({image: 'redis:7.2', memory: '1Gi'})
  })

  it('names --memory asked for a cluster that runs without a limit', () => {
    expect(again({}, {memory: '512Mi'}, ['memory']).differences).toEqual([{flag: '--memory', asked: '512Mi', running: 'none', needsNewVolumes: false}])
  })

  it('names a password asked for pods that run without one, and the reverse', () => {
    expect(again({}, {withAuth: true}).differences).toMatchObject([{flag: '--password-secret', asked: 'a password', running: 'no password'}])
    expect(again({withAuth: true}, {}).differences).toMatchObject([{flag: '--password-secret', asked: 'no password', running: 'a password'}])
  })

  it('keeps the Secret a cluster made with --password-secret names on its pods when create runs again without it', () => {
    const made = {withAuth: true, passwordSecret: 's'}
    const {spec, differences} = again(made, {withAuth: true})
    expect(differences).toEqual([])
    expect(spec.passwordSecret).toBe('s')
    expect(statefulSet({...SPEC, ...spec}).spec!.template).toEqual(statefulSet({...SPEC, ...made}).spec!.template)
  })

  it('names another --password-secret than the one the pods name', () => {
    expect(again({withAuth: true, passwordSecret: 's'}, {withAuth: true, passwordSecret: 't'}, ['passwordSecret']).differences).toEqual([
      {flag: '--password-secret', asked: 't', running: 's', needsNewVolumes: false},
    ])
  })

  it('finds no difference in --password-secret over pods made before the Secret was named on them (they are not rolled to add it)', () => {
    expect(again({withAuth: true}, {withAuth: true, passwordSecret: 's'}, ['passwordSecret']).differences).toEqual([])
    expect(runningSettings(statefulSet({...SPEC, withAuth: true}))).toMatchObject({withAuth: true, acl: false, passwordSecret: undefined})
  })

  it('does not take a cluster whose pods name their password Secret for an ACL cluster', () => {
    expect(runningSettings(statefulSet({...SPEC, withAuth: true, passwordSecret: 's'}))).toMatchObject({acl: false, passwordSecret: 's'})
  })

  it('names --acl asked for pods that run with one password, and the reverse; the same ACL cluster again is no difference', () => {
    const acl = {withAuth: true, adminSecret: 'redis-cluster-user-redisctl-admin'}
    expect(again({withAuth: true}, acl).differences).toEqual([{flag: '--acl', asked: 'ACL users', running: 'no ACL users', needsNewVolumes: false}])
    expect(again(acl, {withAuth: true}).differences).toEqual([{flag: '--acl', asked: 'no ACL users', running: 'ACL users', needsNewVolumes: false}])
    expect(again(acl, acl).differences).toEqual([])
  })

  it('says another volume size or class needs new volumes, not only new pods', () => {
    expect(again({}, {storage: '2Gi', storageClass: 'fast'}, ['storage', 'storageClass']).differences).toEqual([
      {flag: '--storage', asked: '2Gi', running: '1Gi', needsNewVolumes: true},
      {flag: '--storage-class', asked: 'fast', running: 'none', needsNewVolumes: true},
    ])
  })

  it('compares quantities by value, as the API server may write 1024Mi back as 1Gi', () => {
    expect(again({storage: '1Gi'}, {storage: '1024Mi'}, ['storage']).differences).toEqual([])
  })

  it('keeps a TLS cluster TLS when create runs again without --tls', () => {
    const {spec, differences} = again({tlsSecret: 'redis-cluster-tls'}, {})
    expect(differences).toEqual([])
    expect(spec.tlsSecret).toBe('redis-cluster-tls')
  })

  it('refuses --tls over pods that run plaintext: rolled one by one, TLS and plaintext nodes could not share the bus', () => {
    expect(again({}, {tlsSecret: 'redis-cluster-tls'}, ['tlsSecret']).differences).toEqual([
      {flag: '--tls', asked: 'redis-cluster-tls', running: 'none', needsNewVolumes: false},
    ])
  })
})

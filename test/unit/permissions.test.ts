import type {KubernetesObject, V1PolicyRule} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {describePermission, namespaceRules, OPERATIONS, permissionsFor, type PlanOptions} from '../../src/kube/permissions.js'
import {authConfigSecret, clusterManifests, type ClusterSpec} from '../../src/manifests/cluster.js'
import {rbacManifests} from '../../src/manifests/rbac.js'

const plain: PlanOptions = {portForward: false, password: false, passwordSecret: false, deletePvcs: false}
const needs = (...args: Parameters<typeof permissionsFor>): string[] => permissionsFor(...args).map(describePermission)

const spec: ClusterSpec = {name: 'redis-cluster', namespace: 'ci', masters: 3, replicasPerMaster: 1, image: 'redis:7.0', storage: '1Gi', withAuth: true}

/** Whether a Role's rules allow a verb on a resource (sub included), as RBAC reads them without wildcards. */
const ruleAllows = (rules: V1PolicyRule[], verb: string, group: string, resource: string): boolean =>
  rules.some((r) => r.verbs.includes(verb) && (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource))

describe('the permissions a plan needs', () => {
  it('scale in needs to delete PersistentVolumeClaims only with --delete-pvcs', () => {
    expect(needs('scale-in', {...plain, deletePvcs: true})).toContain('delete persistentvolumeclaims')
    expect(needs('scale-in', plain)).not.toContain('delete persistentvolumeclaims')
    expect(needs('scale-in', plain)).toEqual(['get statefulsets.apps', 'patch statefulsets.apps/scale', 'list pods', 'list persistentvolumeclaims'])
  })

  it('port-forwarding needs get and create on pods/portforward, and only when Redis is reached that way', () => {
    expect(needs('move-slots', {...plain, portForward: true})).toEqual(['list pods', 'get pods/portforward', 'create pods/portforward'])
    expect(needs('move-slots', plain)).toEqual(['list pods'])
  })

  it('a scale out needs nothing that a scale in does not: it is what both directions share', () => {
    expect(needs('scale-in', plain)).toEqual(expect.arrayContaining(needs('scale-out', plain)))
  })

  it('create reads, creates and patches every kind it applies, the Secret only when there is a password', () => {
    const manifests: KubernetesObject[] = [...clusterManifests(spec), authConfigSecret(spec, {kind: 'password', passwords: {password: 'pw'}})]
    const withPassword = needs('create', {...plain, password: true})
    for (const o of manifests) {
      const [group] = o.apiVersion!.includes('/') ? o.apiVersion!.split('/') : ['']
      const resource = `${o.kind!.toLowerCase()}s${group ? `.${group}` : ''}`
      for (const verb of ['get', 'create', 'patch']) expect(withPassword).toContain(`${verb} ${resource}`)
    }
    expect(needs('create', plain).filter((p) => p.includes('secrets'))).toEqual([])
  })

  it('reads the password Secret only with --password-secret, and teardown never', () => {
    expect(needs('repair', {...plain, passwordSecret: true})).toContain('get secrets')
    expect(needs('teardown', {...plain, passwordSecret: true, portForward: true})).not.toContain('get secrets')
  })

  it('teardown lists and deletes what create made, PersistentVolumeClaims deleted only with --with-pvcs', () => {
    const teardown = needs('teardown', {...plain, deletePvcs: true})
    for (const r of ['statefulsets.apps', 'poddisruptionbudgets.policy', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims']) {
      expect(teardown).toEqual(expect.arrayContaining([`list ${r}`, `delete ${r}`]))
    }
    expect(needs('teardown', plain)).not.toContain('delete persistentvolumeclaims')
  })
})

describe('the Role redisctl rbac prints', () => {
  const rules = namespaceRules()

  it('allows every call of every plan with every option, and each only once', () => {
    const everything: PlanOptions = {portForward: true, password: true, passwordSecret: true, deletePvcs: true}
    for (const op of OPERATIONS) {
      for (const p of permissionsFor(op, everything)) {
        expect(ruleAllows(rules, p.verb, p.group, p.subresource ? `${p.resource}/${p.subresource}` : p.resource), describePermission(p)).toBe(true)
      }
    }
    const granted = rules.flatMap((r) => r.resources!.flatMap((res) => r.verbs.map((v) => `${r.apiGroups![0]} ${res} ${v}`)))
    expect(new Set(granted).size).toBe(granted.length)
  })

  it('lets every command read the Secret a cluster\'s pods name (made with --password-secret or --acl), given no flag', () => {
    expect(ruleAllows(rules, 'get', '', 'secrets')).toBe(true)
  })

  it('uses no wildcard and nothing cluster-scoped', () => {
    expect(JSON.stringify(rules)).not.toContain('*')
    expect(rules.flatMap((r) => r.resources)).not.toContain('nodes')
  })

  it('comes with the ServiceAccount and both bindings when one is named, and the ClusterRole for Nodes unless --no-nodes', () => {
    const kinds = (objects: ReturnType<typeof rbacManifests>): string[] => objects.map((o) => `${o.object.kind}/${o.object.metadata!.name}`)
    expect(kinds(rbacManifests({name: 'redisctl', namespace: 'ci', serviceAccount: 'runner', nodes: true}))).toEqual([
      'ServiceAccount/runner', 'Role/redisctl', 'RoleBinding/redisctl', 'ClusterRole/redisctl-nodes', 'ClusterRoleBinding/redisctl-nodes-ci-runner',
    ])
    expect(kinds(rbacManifests({name: 'redisctl', namespace: 'ci', nodes: true}))).toEqual(['Role/redisctl', 'ClusterRole/redisctl-nodes'])
    expect(kinds(rbacManifests({name: 'redisctl', namespace: 'ci', nodes: false}))).toEqual(['Role/redisctl'])
  })
})

import {ApiException} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {ExitCode} from '../../src/errors.js'
import {kubeError} from '../../src/kube/api-errors.js'

/** A failed client-node call as it arrives: the HTTP code and the Status body as text. */
const answered = (code: number, status: object): ApiException<string> => new ApiException(code, `HTTP-Code: ${code}`, JSON.stringify(status), {})

describe('what a refused Kubernetes call becomes', () => {
  it('a 403 is forbidden (exit 9), naming who may not do which verb on which resource in which namespace, and the rule that allows it', () => {
    const error = kubeError(answered(403, {kind: 'Status', reason: 'Forbidden', code: 403, details: {name: 'redis', group: 'apps', kind: 'statefulsets'},
      message: 'statefulsets.apps "redis" is forbidden: User "system:serviceaccount:ci:runner" cannot patch resource "statefulsets/scale" in API group "apps" in the namespace "ci"'}),
    'scaling StatefulSet redis to 4 pods')
    expect(error).toMatchObject({kind: 'forbidden', exitCode: ExitCode.forbidden})
    expect(error.message).toBe('The Kubernetes API refused scaling StatefulSet redis to 4 pods: system:serviceaccount:ci:runner may not patch statefulsets.apps/scale in namespace ci.')
    expect(error.suggestions[0]).toContain('Role rule {apiGroups: ["apps"], resources: ["statefulsets/scale"], verbs: ["patch"]}')
    expect(error.suggestions[1]).toBe('Check with: kubectl auth can-i patch statefulsets.apps --subresource=scale -n ci')
  })

  it('a cluster-scoped 403 asks for a ClusterRole rule', () => {
    const error = kubeError(answered(403, {message: 'nodes is forbidden: User "u" cannot list resource "nodes" in API group "" at the cluster scope'}), 'listing nodes')
    expect(error.message).toBe('The Kubernetes API refused listing nodes: u may not list nodes at the cluster scope.')
    expect(error.suggestions[0]).toMatch(/^Grant it with a ClusterRole rule/)
  })

  it('a 403 worded otherwise (an admission refusal) is still forbidden, with the server\'s words', () => {
    const error = kubeError(answered(403, {message: 'pods "p" is forbidden: unable to create new content in namespace ci because it is being terminated'}), 'creating pod p')
    expect(error).toMatchObject({kind: 'forbidden', message: 'The Kubernetes API refused creating pod p: pods "p" is forbidden: unable to create new content in namespace ci because it is being terminated.'})
  })

  it('a 401 is unauthorized (exit 11): the credentials were rejected, whatever the call', () => {
    const error = kubeError(answered(401, {message: 'Unauthorized', reason: 'Unauthorized', code: 401}), 'listing pods', 'https://k8s.example:6443')
    expect(error).toMatchObject({kind: 'unauthorized', exitCode: ExitCode.unauthorized})
    expect(error.message).toBe('The Kubernetes API at https://k8s.example:6443 rejected the kubeconfig\'s credentials while listing pods (401 Unauthorized).')
  })

  it('a 404 naming the namespace (a create in a namespace that does not exist) says the namespace does not exist', () => {
    const error = kubeError(answered(404, {message: 'namespaces "nope" not found', reason: 'NotFound', details: {name: 'nope', kind: 'namespaces'}, code: 404}), 'creating ConfigMap/redis-cluster-config')
    expect(error).toMatchObject({kind: 'notFound', message: 'The namespace "nope" does not exist.'})
  })
})

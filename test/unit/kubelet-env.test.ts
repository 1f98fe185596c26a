import type {V1Container, V1Pod} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {resolveEnv} from '../../src/sandbox/kubelet/env.js'

const pod: V1Pod = {
  metadata: {name: 'redis-0', namespace: 'shop', uid: 'u-1', labels: {app: 'redis'}},
  spec: {nodeName: 'node-a', containers: []},
}
const facts = {podIp: '127.64.0.3', hostIp: '127.0.1.1'}
const sources = {
  configMaps: new Map([['settings', {data: {maxmemory: '100mb'}}]]),
  secrets: new Map([['auth', {data: {password: Buffer.from('s3cret').toString('base64')}}]]),
}
const container = (env: V1Container['env'], envFrom?: V1Container['envFrom']): V1Container => ({name: 'redis', env, envFrom})

describe('container environment', () => {
  it('reads pod fields through fieldRef', () => {
    const result = resolveEnv(
      pod,
      container([
        {name: 'POD_IP', valueFrom: {fieldRef: {fieldPath: 'status.podIP'}}},
        {name: 'POD_NAME', valueFrom: {fieldRef: {fieldPath: 'metadata.name'}}},
        {name: 'NS', valueFrom: {fieldRef: {fieldPath: 'metadata.namespace'}}},
        {name: 'NODE', valueFrom: {fieldRef: {fieldPath: 'spec.nodeName'}}},
        {name: 'APP', valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}},
      ]),
      facts,
      sources,
    )
    expect(result.ok && Object.fromEntries(result.env)).toEqual({POD_IP: '127.64.0.3', POD_NAME: 'redis-0', NS: 'shop', NODE: 'node-a', APP: 'redis'})
  })

  it('reads Secret and ConfigMap keys', () => {
    const result = resolveEnv(
      pod,
      container([
        {name: 'PASSWORD', valueFrom: {secretKeyRef: {name: 'auth', key: 'password'}}},
        {name: 'MAXMEMORY', valueFrom: {configMapKeyRef: {name: 'settings', key: 'maxmemory'}}},
      ]),
      facts,
      sources,
    )
    expect(result.ok && Object.fromEntries(result.env)).toEqual({PASSWORD: 's3cret', MAXMEMORY: '100mb'})
  })

  it('expands a value against the variables defined before it', () => {
    const result = resolveEnv(
      pod,
      container([
        {name: 'LATER', value: '$(ADDR)'},
        {name: 'IP', valueFrom: {fieldRef: {fieldPath: 'status.podIP'}}},
        {name: 'ADDR', value: '$(IP):6379'},
      ]),
      facts,
      sources,
    )
    expect(result.ok && Object.fromEntries(result.env)).toEqual({LATER: '$(ADDR)', IP: '127.64.0.3', ADDR: '127.64.0.3:6379'})
  })

  it('takes envFrom first, with its prefix, and lets env override it', () => {
    const result = resolveEnv(pod, container([{name: 'CFG_maxmemory', value: '1gb'}], [{configMapRef: {name: 'settings'}, prefix: 'CFG_'}]), facts, sources)
    expect(result.ok && Object.fromEntries(result.env)).toEqual({CFG_maxmemory: '1gb'})
  })

  it('reports a missing Secret as an error to retry', () => {
    const result = resolveEnv(pod, container([{name: 'P', valueFrom: {secretKeyRef: {name: 'absent', key: 'k'}}}]), facts, sources)
    expect(result).toEqual({ok: false, message: 'secret "absent" not found'})
  })

  it('reports a missing key of an existing ConfigMap', () => {
    const result = resolveEnv(pod, container([{name: 'X', valueFrom: {configMapKeyRef: {name: 'settings', key: 'nope'}}}]), facts, sources)
    expect(result).toEqual({ok: false, message: "couldn't find key nope in ConfigMap shop/settings"})
  })

  it('skips an optional missing source', () => {
    const result = resolveEnv(pod, container([{name: 'P', valueFrom: {secretKeyRef: {name: 'absent', key: 'k', optional: true}}}]), facts, sources)
    expect(result.ok && result.env.size).toBe(0)
  })
})

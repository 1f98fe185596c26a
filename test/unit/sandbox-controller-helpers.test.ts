import {describe, expect, it} from 'vitest'

import {labelSelectorMatches, nodeSelectorTermsMatch} from '../../src/sandbox/controllers/selectors.js'
import {claimStep, defaultStorageClass, ownedFolder, provisionedVolume, willProvision} from '../../src/sandbox/controllers/volume-plan.js'
import {WorkQueue} from '../../src/sandbox/controllers/workqueue.js'

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('work queue', () => {
  it('runs a key added many times while it waits only once', async () => {
    const runs: string[] = []
    const queue = new WorkQueue(async (key) => void runs.push(key), {concurrency: 1})
    queue.add('blocker')
    for (let i = 0; i < 50; i++) queue.add('a')
    await until(() => queue.idle)
    expect(runs).toEqual(['blocker', 'a'])
    await queue.stop()
  })

  it('never runs one key twice at the same time, and runs it again when it changed meanwhile', async () => {
    let active = 0
    let maxActive = 0
    let runs = 0
    let release: () => void = () => {}
    const queue = new WorkQueue(async () => {
      active++
      maxActive = Math.max(maxActive, active)
      runs++
      if (runs === 1) await new Promise<void>((resolve) => (release = resolve))
      active--
    })
    queue.add('k')
    await until(() => runs === 1)
    queue.add('k')
    queue.add('k')
    release()
    await until(() => queue.idle && runs === 2)
    expect(maxActive).toBe(1)
    await queue.stop()
  })

  it('retries a failing key until it succeeds, reporting each error', async () => {
    const errors: unknown[] = []
    let attempts = 0
    const queue = new WorkQueue(
      async () => {
        attempts++
        if (attempts < 3) throw new Error(`attempt ${attempts}`)
      },
      {onError: (_key, error) => errors.push(error)},
    )
    queue.add('k')
    await until(() => attempts === 3 && queue.idle)
    expect(errors.map((e) => (e as Error).message)).toEqual(['attempt 1', 'attempt 2'])
    await queue.stop()
  })

  it('looks at a key again after the delay its handler asks for', async () => {
    const times: number[] = []
    const queue = new WorkQueue(async () => {
      times.push(Date.now())
      return times.length === 1 ? 30 : undefined
    })
    queue.add('k')
    await until(() => times.length === 2)
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(25)
    await queue.stop()
  })

  it('forgets scheduled work when stopped', async () => {
    let runs = 0
    const queue = new WorkQueue(async () => void runs++)
    queue.addAfter('k', 20)
    await queue.stop()
    expect(queue.idle).toBe(true)
    queue.add('k')
    expect(runs).toBe(0)
  })
})

describe('label selectors', () => {
  it('ANDs matchLabels and matchExpressions', () => {
    const selector = {matchLabels: {app: 'redis'}, matchExpressions: [{key: 'role', operator: 'NotIn', values: ['cache']}]}
    expect(labelSelectorMatches(selector, {app: 'redis', role: 'db'})).toBe(true)
    expect(labelSelectorMatches(selector, {app: 'redis', role: 'cache'})).toBe(false)
    expect(labelSelectorMatches(selector, {app: 'other'})).toBe(false)
  })

  it('matches everything with an empty selector and nothing without one', () => {
    expect(labelSelectorMatches({}, {a: 'b'})).toBe(true)
    expect(labelSelectorMatches(undefined, {a: 'b'})).toBe(false)
  })

  it('ORs node selector terms and compares numbers for Gt', () => {
    const terms = [
      {matchExpressions: [{key: 'zone', operator: 'In', values: ['a']}]},
      {matchExpressions: [{key: 'cpus', operator: 'Gt', values: ['4']}]},
    ]
    expect(nodeSelectorTermsMatch(terms, 'n', {zone: 'b', cpus: '8'})).toBe(true)
    expect(nodeSelectorTermsMatch(terms, 'n', {zone: 'b', cpus: '2'})).toBe(false)
  })
})

describe('provisioned volumes', () => {
  const claim = {
    metadata: {name: 'data-redis-0', namespace: 'db', uid: 'u1'},
    spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '2Gi'}}},
  }

  it('makes a hostPath PV named after the claim uid, sized and classed from the claim, reclaimed on delete', () => {
    const volume = provisionedVolume(claim, defaultStorageClass, '/tmp/vols')
    expect(volume.metadata?.name).toBe('pvc-u1')
    expect(volume.spec).toMatchObject({
      capacity: {storage: '2Gi'},
      storageClassName: 'standard',
      persistentVolumeReclaimPolicy: 'Delete',
      hostPath: {path: '/tmp/vols/pvc-u1'},
      claimRef: {namespace: 'db', name: 'data-redis-0', uid: 'u1'},
    })
  })

  it('only ever deletes folders it provisioned inside its root', () => {
    const volume = provisionedVolume(claim, defaultStorageClass, '/tmp/vols')
    expect(ownedFolder(volume, '/tmp/vols')).toBe('/tmp/vols/pvc-u1')
    expect(ownedFolder({...volume, spec: {...volume.spec, hostPath: {path: '/tmp/vols/../etc'}}}, '/tmp/vols')).toBeUndefined()
    expect(ownedFolder({...volume, metadata: {name: 'pvc-u1'}}, '/tmp/vols')).toBeUndefined()
  })
})

describe('claims the provisioner cannot serve', () => {
  const claim = (storageClassName?: string) => ({metadata: {name: 'data-redis-0', namespace: 'db', uid: 'u1'}, spec: {storageClassName}})
  const external = {metadata: {name: 'fast'}, provisioner: 'ebs.csi.aws.com'}

  it('gives a claim without a class the default class, and provisions a claim of the default class', () => {
    expect(claimStep(claim(), [defaultStorageClass])).toEqual({kind: 'assignDefaultClass', className: 'standard'})
    expect(claimStep(claim('standard'), [defaultStorageClass])).toEqual({kind: 'provision', storageClass: defaultStorageClass})
  })

  it('leaves a claim of a class that does not exist Pending with the PV controller\'s ProvisioningFailed warning', () => {
    expect(claimStep(claim('nosuch'), [defaultStorageClass])).toEqual({
      kind: 'wait',
      event: {type: 'Warning', reason: 'ProvisioningFailed', message: 'storageclass.storage.k8s.io "nosuch" not found'},
    })
  })

  it('waits for the external provisioner of another class, and for a volume when no class is set and none is default', () => {
    expect(claimStep(claim('fast'), [defaultStorageClass, external])).toMatchObject({kind: 'wait', event: {reason: 'ExternalProvisioning'}})
    expect(claimStep(claim(), [])).toMatchObject({kind: 'wait', event: {reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set'}})
  })

  it('knows which claims it will bind by itself', () => {
    expect(willProvision(claim(), [defaultStorageClass])).toBe(true)
    expect(willProvision(claim('nosuch'), [defaultStorageClass])).toBe(false)
    expect(willProvision(claim('fast'), [defaultStorageClass, external])).toBe(false)
  })
})

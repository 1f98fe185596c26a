import {once} from 'node:events'
import {writeFile} from 'node:fs/promises'
import {connect} from 'node:net'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {Cluster} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CreateResult} from '../../src/commands/cluster/create.js'
import type {StatusResult} from '../../src/commands/status.js'
import {connectKube} from '../../src/kube/context.js'
import type {RedisPod} from '../../src/kube/pods.js'
import {openPortForwards} from '../../src/kube/port-forward.js'
import {json, type CliResult} from '../support/cli.js'
import {
  clusterInfo, type E2eSandbox, freePort, names, pods, redisCli, redisServerProcesses, startE2eSandbox, waitForReadyPods,
} from './e2e-support.js'
import {handWrittenStatefulSet} from './hand-written.js'

const SELECTOR = 'app.kubernetes.io/instance=redis-cluster'

const errorOf = (r: CliResult) => json<{error: {kind: string; message: string; exitCode: number}}>(r).error

describe('redisctl cluster create', () => {
  let sandbox: E2eSandbox
  let created: CliResult
  let checkedRightAfter: CliResult

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 241})
    created = await sandbox.cli(['cluster', 'create', '--json'])
    checkedRightAfter = await sandbox.cli(['check', '--json'])
  })

  afterAll(async () => {
    await sandbox?.down()
  })

  it('creates 3 masters with 1 replica each on a fresh sandbox and exits 0', async () => {
    expect(created.code, created.stderr).toBe(0)
    const result = json<{alreadyFormed: boolean; masters: unknown[]; replicas: unknown[]; warnings: string[]}>(created)
    expect(result.alreadyFormed).toBe(false)
    expect(result.masters).toHaveLength(3)
    expect(result.replicas).toHaveLength(3)
    expect(result.warnings).toEqual([])
    expect(await pods(sandbox, SELECTOR)).toHaveLength(6)
  })

  it('create && check: check finds no replica-link-down or replica-syncing, nothing at all but the missing password, and exits 0 (create waited until every replica was in sync)', () => {
    expect(checkedRightAfter.code, checkedRightAfter.stdout + checkedRightAfter.stderr).toBe(0)
    expect(json<{findings: Array<{code: string}>}>(checkedRightAfter).findings).toEqual([])
  })

  it('passes redis-cli --cluster check with every slot covered', async () => {
    const [first] = await pods(sandbox, SELECTOR)
    const check = await redisCli(['--cluster', 'check', `${first.ip}:6379`])
    expect(check.code, check.stdout).toBe(0)
    expect(check.stdout).toContain('[OK] All 16384 slots covered')
    expect(check.stdout).not.toMatch(/\[ERR\]|\[WARNING\]/)
  })

  it('serves an ioredis Cluster client: 2000 keys spread over the slots are written and read back', async () => {
    const [first] = await pods(sandbox, SELECTOR)
    const client = new Cluster([{host: first.ip!, port: 6379}], {redisOptions: {protocol: 2}})
    try {
      const keys = Array.from({length: 2000}, (_, i) => `key:${i}`)
      await Promise.all(keys.map((k, i) => client.set(k, `value-${i}`)))
      const values = await Promise.all(keys.map((k) => client.get(k)))
      expect(values).toEqual(keys.map((_, i) => `value-${i}`))
      // Spread: every master holds some of them.
      const masters = client.nodes('master')
      expect(masters).toHaveLength(3)
      const sizes = await Promise.all(masters.map((m) => m.dbsize()))
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(2000)
      for (const size of sizes) expect(size).toBeGreaterThan(400)
    } finally {
      client.disconnect()
    }
  })

  it('places no replica on the Kubernetes node of its master', async () => {
    const list = await pods(sandbox, SELECTOR)
    const nodeOfIp = new Map(list.map((p) => [p.ip!, p.node!]))
    const text = (await redisCli(['-h', list[0].ip!, '-p', '6379', 'CLUSTER', 'NODES'])).stdout
    const lines = text.trim().split('\n').map((l) => l.split(' '))
    const ipOfId = new Map(lines.map((f) => [f[0], f[1].split(':')[0]]))
    const replicas = lines.filter((f) => f[2].includes('slave'))
    expect(replicas).toHaveLength(3)
    for (const r of replicas) {
      const replicaNode = nodeOfIp.get(r[1].split(':')[0])
      const masterNode = nodeOfIp.get(ipOfId.get(r[3])!)
      expect(replicaNode).toBeDefined()
      expect(replicaNode).not.toBe(masterNode)
    }
  })

  it('run again, exits 0, says alreadyFormed and leaves the cluster epoch as it was', async () => {
    const [first] = await pods(sandbox, SELECTOR)
    const before = await clusterInfo(first.ip!, 6379)
    const again = await sandbox.cli(['cluster', 'create', '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(json(again)).toMatchObject({alreadyFormed: true, changes: 0})
    const after = await clusterInfo(first.ip!, 6379)
    expect(after.cluster_current_epoch).toBe(before.cluster_current_epoch)
    expect(after.cluster_state).toBe('ok')
  })

  it('the run names the masters it chose, where they run, their slots and replicas, in text as in --json', async () => {
    const chosen = json<CreateResult>(created)
    const text = await sandbox.cli(['cluster', 'create'])
    expect(text.code, text.stderr).toBe(0)
    for (const m of chosen.masters) {
      const replicas = chosen.replicas.filter((r) => r.master === m.pod).map((r) => `${r.pod} on ${r.k8sNode}`)
      expect(text.stdout).toContain(`master ${m.pod} on ${m.k8sNode}, slots ${m.slots}; replica ${replicas.join(', ')}`)
    }
  })

  it('status --json shows every pod with its Kubernetes node, role, slots and the keys written above', async () => {
    const status = await sandbox.cli(['status', '--json'])
    expect(status.code, status.stderr).toBe(0)
    const body = json<StatusResult>(status)
    expect(body).toMatchObject({summary: {clusterState: 'ok', slotsAgreed: true, nodes: 6, answered: 6, agreeing: 6, silent: [], outside: []}})
    // cluster_state and agreement are said once, in summary, not again at the top.
    expect(Object.keys(body).sort()).toEqual(['name', 'namespace', 'nodes', 'summary', 'warnings'])
    expect(body.name).toBe('redis-cluster')
    expect(status.stdout).not.toContain('did not answer')
    const list = await pods(sandbox, SELECTOR)
    expect(body.nodes.map((n) => n.pod).sort()).toEqual(list.map((p) => p.name).sort())
    for (const n of body.nodes) {
      const pod = list.find((p) => p.name === n.pod)!
      expect(n).toMatchObject({ip: pod.ip, k8sNode: pod.node, reachable: true})
    }
    const masters = body.nodes.filter((n) => n.role === 'master')
    expect(masters).toHaveLength(3)
    expect(masters.reduce((sum, m) => sum + m.slotCount, 0)).toBe(16384)
    expect(masters.reduce((sum, m) => sum + (m.keys ?? 0), 0)).toBe(2000)
    for (const r of body.nodes.filter((n) => n.role === 'replica')) {
      expect(masters.map((m) => m.pod)).toContain(r.masterPod)
      expect(r).toMatchObject({membership: 'in-cluster', link: 'connected'})
      // A master's replication PING (every 10 s) puts a replica a few bytes behind for a moment: lagging, never syncing.
      expect(r.sync?.state).toMatch(/^(in-sync|lagging)$/)
    }
    const text = await sandbox.cli(['status'])
    expect(text.stdout).toContain('slot map agreed by all 6 nodes')
  })

  it('check --json finds nothing wrong but the missing password (a warning naming every pod) and exits 0', async () => {
    const check = await sandbox.cli(['check', '--json'])
    expect(check.code, check.stdout + check.stderr).toBe(0)
    expect(json(check)).toMatchObject({healthy: true, errors: 0, findings: [], security: [{code: 'no-authentication', severity: 'warning', pods: (await pods(sandbox, SELECTOR)).map((p) => p.name)}]})
  })

  it('a node left on a shorter cluster-node-timeout: check warns node-timeout-lowered, create run again gives back the 5000 ms of the ConfigMap', async () => {
    const [first, second] = await pods(sandbox, SELECTOR)
    for (const p of [first, second]) await redisCli(['-h', p.ip!, '-p', '6379', 'CONFIG', 'SET', 'cluster-node-timeout', '1000'])
    const check = await sandbox.cli(['check', '--json'])
    expect(check.code, check.stdout + check.stderr).toBe(0)
    const {findings} = json<{findings: Array<{code: string; pods: string[]}>}>(check)
    const lowered = findings.find((f) => f.code === 'node-timeout-lowered')
    expect(lowered?.pods.sort(), JSON.stringify(findings)).toEqual([first.name, second.name].sort())

    const again = await sandbox.cli(['cluster', 'create', '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(json(again)).toMatchObject({alreadyFormed: true, changes: 1})
    for (const p of [first, second]) expect((await redisCli(['-h', p.ip!, '-p', '6379', 'CONFIG', 'GET', 'cluster-node-timeout'])).stdout).toContain('5000')
    expect(json<{findings: Array<{code: string}>}>(await sandbox.cli(['check', '--json'])).findings).toEqual([])
  })

  it('status --connect port-forward reaches every node through API server and kubelet, as from a laptop, and sees the keys', async () => {
    const status = await sandbox.cli(['status', '--connect', 'port-forward', '--json'])
    expect(status.code, status.stdout + status.stderr).toBe(0)
    const body = json<StatusResult>(status)
    expect(body.summary).toMatchObject({clusterState: 'ok', slotsAgreed: true})
    expect(body.nodes).toHaveLength(6)
    expect(body.nodes.filter((n) => !n.reachable).map((n) => n.pod)).toEqual([])
    expect(body.nodes.filter((n) => n.role === 'master').reduce((sum, m) => sum + (m.keys ?? 0), 0)).toBe(2000)
  })

  it('reaches the nodes through the Kubernetes API with --connect port-forward, as from a laptop', async () => {
    const check = await sandbox.cli(['check', '--connect', 'port-forward', '--json'])
    expect(check.code, check.stdout + check.stderr).toBe(0)
    expect(json(check)).toMatchObject({healthy: true, errors: 0})
  })

  it('a port-forwarded connection whose client hangs up before the reply comes back is closed, not a crash', async () => {
    const kube = connectKube({kubeconfig: sandbox.kubeconfig})
    const [pod] = (await pods(sandbox, SELECTOR)).filter((p) => p.ip)
    const forwards = await openPortForwards(kube, [{name: pod.name, ip: pod.ip, port: 6379} as RedisPod])
    const local = forwards.forwardTo({host: pod.ip!, port: 6379})!
    const uncaught: unknown[] = []
    const keep = (error: unknown): void => void uncaught.push(error)
    process.on('uncaughtException', keep)
    try {
      for (let i = 0; i < 10; i++) {
        const socket = connect(local.port, local.host)
        await once(socket, 'connect')
        socket.end('CLUSTER NODES\r\nINFO\r\n')
        await once(socket, 'close')
      }
      await sleep(1000)
    } finally {
      process.off('uncaughtException', keep)
      await forwards.close()
    }
    expect(uncaught).toEqual([])
  })

  it('--dry-run -o yaml prints a StatefulSet manifest and creates nothing', async () => {
    const before = await names(sandbox, 'statefulsets,services,configmaps,pdb,pvc,pods')
    const dry = await sandbox.cli(['cluster', 'create', '--name', 'dry', '--dry-run', '-o', 'yaml'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/^kind: StatefulSet$/m)
    expect(dry.stdout).toMatch(/^ {2}name: dry$/m)
    expect(dry.stdout).toContain('volumeClaimTemplates')
    expect(await names(sandbox, 'statefulsets,services,configmaps,pdb,pvc,pods')).toEqual(before)
  })

  it('--masters 2 is a usage error (2) and creates nothing', async () => {
    const before = await names(sandbox, 'statefulsets,services,configmaps,pdb,pvc')
    const two = await sandbox.cli(['cluster', 'create', '--name', 'two', '--masters', '2', '--json'])
    expect(two.code).toBe(2)
    expect(errorOf(two)).toMatchObject({kind: 'usage', exitCode: 2})
    expect(await names(sandbox, 'statefulsets,services,configmaps,pdb,pvc')).toEqual(before)
  })

  it('-n with a namespace that does not exist exits 3 and names the namespace', async () => {
    const missing = await sandbox.cli(['cluster', 'create', '-n', 'nosuchns'])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toContain('namespace')
    expect(missing.stderr).toContain('nosuchns')
  })

  it('--context that the kubeconfig lacks exits 3', async () => {
    const missing = await sandbox.cli(['cluster', 'create', '--context', 'nope', '--json'])
    expect(missing.code).toBe(3)
    expect(errorOf(missing)).toMatchObject({kind: 'notFound'})
    expect(errorOf(missing).message).toContain('nope')
  })

  it('a kubeconfig pointing at a closed port exits 6', async () => {
    const port = await freePort()
    const kubeconfig = join(sandbox.dir, 'closed-kubeconfig')
    await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters:
- name: closed
  cluster: {server: "http://127.0.0.1:${port}"}
contexts:
- name: closed
  context: {cluster: closed, user: nobody}
current-context: closed
users:
- name: nobody
  user: {}
`)
    const unreachable = await sandbox.cli(['cluster', 'create', '--kubeconfig', kubeconfig, '--json'], {timeoutMs: 30_000})
    expect(unreachable.code).toBe(6)
    expect(errorOf(unreachable)).toMatchObject({kind: 'kubeUnreachable'})
  })

  describe('adopting pods someone else deployed (--selector)', () => {
    it('forms 6 hand-deployed pods on port 7000 into a cluster that passes redis-cli --cluster check', async () => {
      const applied = await sandbox.kubectl(['apply', '-f', '-'], handWrittenStatefulSet('adopted', 6, {port: 7000}))
      expect(applied.code, applied.stderr).toBe(0)
      const ready = await waitForReadyPods(sandbox, 'app=adopted', 6)
      const adopt = await sandbox.cli(['cluster', 'create', '--selector', 'app=adopted', '--name', 'adopted', '--timeout', '40', '--json'])
      expect(adopt.code, adopt.stdout + adopt.stderr).toBe(0)
      expect(json(adopt)).toMatchObject({alreadyFormed: false, applied: []})
      const check = await redisCli(['--cluster', 'check', `${ready[0].ip}:7000`])
      expect(check.code, check.stdout).toBe(0)
      expect(check.stdout).toContain('[OK] All 16384 slots covered')
      expect(check.stdout).toContain(`${ready[0].ip}:7000`)
      // Nothing of redisctl's was applied for an adoption.
      expect(await names(sandbox, 'statefulsets')).toEqual(['statefulset.apps/adopted', 'statefulset.apps/redis-cluster'])
    })

    it('refuses an odd pod count (5) with a usage error (2) and changes nothing', async () => {
      const applied = await sandbox.kubectl(['apply', '-f', '-'], handWrittenStatefulSet('odd', 5, {port: 7000, extraArgs: ['--enable-debug-command', 'yes']}))
      expect(applied.code, applied.stderr).toBe(0)
      const ready = await waitForReadyPods(sandbox, 'app=odd', 5)
      const odd = await sandbox.cli(['cluster', 'create', '--selector', 'app=odd', '--name', 'odd', '--timeout', '20', '--json'])
      expect(odd.code, odd.stdout).toBe(2)
      expect(errorOf(odd)).toMatchObject({kind: 'usage'})
      for (const p of ready) {
        const info = await clusterInfo(p.ip!, 7000)
        expect(info.cluster_known_nodes).toBe('1')
        expect(info.cluster_slots_assigned).toBe('0')
      }
    })

    it('refuses pods where a node already holds keys (4) and changes nothing', async () => {
      // The 5 pods of the previous case plus one: an even count, but odd-0 holds keys.
      const [dirty] = await pods(sandbox, 'app=odd')
      expect((await redisCli(['-h', dirty.ip!, '-p', '7000', 'DEBUG', 'POPULATE', '10'])).stdout.trim()).toBe('OK')
      expect((await sandbox.kubectl(['scale', 'sts', 'odd', '--replicas=6'])).code).toBe(0)
      const ready = await waitForReadyPods(sandbox, 'app=odd', 6)
      const refused = await sandbox.cli(['cluster', 'create', '--selector', 'app=odd', '--name', 'odd', '--timeout', '20', '--json'])
      expect(refused.code, refused.stdout).toBe(4)
      expect(errorOf(refused)).toMatchObject({kind: 'precondition'})
      expect(errorOf(refused).message).toContain('odd-0')
      for (const p of ready) {
        const info = await clusterInfo(p.ip!, 7000)
        expect(info.cluster_known_nodes).toBe('1')
        expect(info.cluster_slots_assigned).toBe('0')
      }
      expect((await redisCli(['-h', dirty.ip!, '-p', '7000', 'DBSIZE'])).stdout.trim()).toBe('10')
    })
  })

  it('check --json on pods that were never formed reports errors and exits 10', async () => {
    const check = await sandbox.cli(['check', '--selector', 'app=odd', '--json'])
    expect(check.code, check.stdout + check.stderr).toBe(10)
    const body = json<{healthy: boolean; errors: number; findings: Array<{code: string; severity: string}>}>(check)
    expect(body.healthy).toBe(false)
    expect(body.errors).toBeGreaterThan(0)
    expect(body.findings).toContainEqual(expect.objectContaining({code: 'not-formed', severity: 'error'}))
  })

  describe('with a password from a Secret (--password-secret)', () => {
    const password = `pw-${process.pid}-${Math.random().toString(36).slice(2)}`
    let secured: CliResult

    beforeAll(async () => {
      // The hint's `kubectl create secret generic --from-file=password=/dev/stdin` is specified in
      // test/sandbox/apiserver-kubectl-create.test.ts; apply keeps the password on stdin here too.
      const secret = `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: "${password}"}\n`
      const applied = await sandbox.kubectl(['apply', '-f', '-'], secret)
      if (applied.code !== 0) throw new Error(applied.stderr)
      secured = await sandbox.cli(['cluster', 'create', '--name', 'sec', '--password-secret', 's', '--json'])
    })

    it('forms the cluster', async () => {
      expect(secured.code, secured.stdout + secured.stderr).toBe(0)
      expect(json(secured)).toMatchObject({alreadyFormed: false})
      const list = await pods(sandbox, 'app.kubernetes.io/instance=sec')
      const info = await clusterInfo(list[0].ip!, 6379, {REDISCLI_AUTH: password})
      expect(info.cluster_state).toBe('ok')
    })

    it('requires the password: redis-cli with REDISCLI_AUTH can PING, without it cannot', async () => {
      const [pod] = await pods(sandbox, 'app.kubernetes.io/instance=sec')
      expect((await redisCli(['-h', pod.ip!, 'PING'], {REDISCLI_AUTH: password})).stdout.trim()).toBe('PONG')
      expect((await redisCli(['-h', pod.ip!, 'PING'])).stdout).toContain('NOAUTH')
    })

    it('keeps the password out of the redis-servers\' command lines and environments, the StatefulSet and the JSON output', async () => {
      const list = await pods(sandbox, 'app.kubernetes.io/instance=sec')
      const servers = (await redisServerProcesses()).filter((p) => list.some((pod) => p.cmdline.includes(`${pod.ip}:`)))
      expect(servers).toHaveLength(6)
      for (const s of servers) {
        expect(s.cmdline).not.toContain(password)
        expect(s.environ).not.toContain(password)
      }
      expect((await sandbox.kubectl(['get', 'sts', 'sec', '-o', 'yaml'])).stdout).not.toContain(password)
      expect((await sandbox.kubectl(['get', 'configmap', 'sec-config', '-o', 'yaml'])).stdout).not.toContain(password)
      expect(secured.stdout).not.toContain(password)
      expect(secured.stderr).not.toContain(password)
    })

    it('a wrong password through REDISCTL_PASSWORD exits 8 (authFailed)', async () => {
      const wrong = await sandbox.cli(['cluster', 'create', '--name', 'sec', '--json'], {env: {REDISCTL_PASSWORD: 'not-the-password'}})
      expect(wrong.stdout).not.toContain('not-the-password')
      expect(errorOf(wrong)).toMatchObject({kind: 'authFailed', exitCode: 8})
      expect(wrong.code).toBe(8)
    })

    it('a create refused for a wrong password leaves the auth Secret as it was', async () => {
      const conf = await sandbox.kubectl(['get', 'secret', 'sec-auth-conf', '-o', 'jsonpath={.data.auth\\.conf}'])
      expect(Buffer.from(conf.stdout, 'base64').toString('utf8')).toContain(password)
    })
  })
})

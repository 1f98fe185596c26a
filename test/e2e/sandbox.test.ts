import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {findServerBinary} from '../../src/sandbox/kubelet/container-command.js'
import {json, runCli} from '../support/cli.js'
import {
  type E2eSandbox, freePort, isAlive, names, pods, redisCli, redisServerProcesses, startE2eSandbox, waitFor, waitForReadyPods,
} from './e2e-support.js'

/** A StatefulSet written by hand, as a user would: redis:7.0 running redis-server with args, one volume per pod. */
const WEB = `
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: 2
  podManagementPolicy: Parallel
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: redis
        image: redis:7.0
        command: ["redis-server"]
        args: ["--port", "6379", "--save", "", "--appendonly", "no", "--dir", "/data"]
        ports:
        - {name: redis, containerPort: 6379}
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 64Mi}
`

describe('redisctl sandbox', () => {
  let sandbox: E2eSandbox
  /** Every pod IP seen in this file, to prove that `sandbox down` leaves none of them running. */
  const seenIps = new Set<string>()
  const remember = (list: Array<{ip?: string}>) => list.forEach((p) => p.ip && seenIps.add(p.ip))

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 240, json: false})
  })

  afterAll(async () => {
    await sandbox?.down()
  })

  it('up prints where the API is, the kubeconfig and the export line to use it', async () => {
    expect(sandbox.up.code).toBe(0)
    expect(sandbox.up.stdout).toContain(`The sandbox is up at ${sandbox.server}.`)
    expect(sandbox.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(sandbox.up.stdout).toContain(`kubeconfig: ${sandbox.kubeconfig}`)
    expect(sandbox.up.stdout).toContain(`export KUBECONFIG=${sandbox.kubeconfig}`)
    expect(sandbox.kubeconfig).toBe(join(sandbox.dir, 'kubeconfig'))
    expect(existsSync(sandbox.kubeconfig)).toBe(true)
    expect(isAlive(sandbox.pid)).toBe(true)
  })

  it('up again says it is already up, exits 0 and gives {kubeconfig, server, pid, dir} as JSON', async () => {
    const again = await runCli(['sandbox', 'up', '--dir', sandbox.dir, '--json'])
    expect(again.code).toBe(0)
    expect(json(again)).toMatchObject({alreadyUp: true, kubeconfig: sandbox.kubeconfig, server: sandbox.server, pid: sandbox.pid, dir: sandbox.dir})
    const text = await runCli(['sandbox', 'up', '--dir', sandbox.dir])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`The sandbox is already up at ${sandbox.server}.`)
    expect(text.stdout).toContain(`export KUBECONFIG=${sandbox.kubeconfig}`)
  })

  it('up again with other --nodes fails with a usage error (2) and the running sandbox keeps running', async () => {
    const other = await runCli(['sandbox', 'up', '--dir', sandbox.dir, '--nodes', '5', '--json'])
    expect(other.code).toBe(2)
    expect(json<{error: {kind: string; message: string}}>(other).error).toMatchObject({kind: 'usage'})
    expect(json<{error: {message: string}}>(other).error.message).toContain('already up with other settings')
    expect(isAlive(sandbox.pid)).toBe(true)
    const status = json(await runCli(['sandbox', 'status', '--dir', sandbox.dir, '--json']))
    expect(status).toMatchObject({running: true, pid: sandbox.pid, server: sandbox.server})
    expect(await names(sandbox, 'nodes')).toHaveLength(3)
  })

  it('kubectl get nodes -o wide shows 3 Ready nodes, spread over 3 zones', async () => {
    const wide = await sandbox.kubectl(['get', 'nodes', '-o', 'wide'])
    expect(wide.code).toBe(0)
    const rows = wide.stdout.trim().split('\n').slice(1)
    expect(rows).toHaveLength(3)
    for (const row of rows) expect(row.split(/\s+/)[1]).toBe('Ready')
    const list = JSON.parse((await sandbox.kubectl(['get', 'nodes', '-o', 'json'])).stdout) as {items: Array<{metadata: {labels: Record<string, string>}}>}
    expect(new Set(list.items.map((n) => n.metadata.labels['topology.kubernetes.io/zone'])).size).toBe(3)
  })

  it('kubectl apply of a hand-written StatefulSet runs its pods as redis-servers on 127.x IPs', async () => {
    const applied = await sandbox.kubectl(['apply', '-f', '-'], WEB)
    expect(applied.code, applied.stderr).toBe(0)
    expect(applied.stdout).toContain('statefulset.apps/web created')
    const running = await waitForReadyPods(sandbox, 'app=web', 2)
    remember(running)
    expect(running.map((p) => p.name)).toEqual(['web-0', 'web-1'])
    for (const p of running) {
      expect(p.ip).toMatch(/^127\.\d+\.\d+\.\d+$/)
      expect((await redisCli(['-h', p.ip!, '-p', '6379', 'PING'])).stdout.trim()).toBe('PONG')
    }
    expect(new Set(running.map((p) => p.ip)).size).toBe(2)
    expect(await names(sandbox, 'pvc')).toEqual(['persistentvolumeclaim/data-web-0', 'persistentvolumeclaim/data-web-1'])
  })

  it('pods of a redis:7.0 StatefulSet reach each other as on a real cluster (protected mode off, as in the image)', async () => {
    const [web0, web1] = await pods(sandbox, 'app=web')
    expect((await redisCli(['-h', web1.ip!, 'REPLICAOF', web0.ip!, '6379'])).stdout.trim()).toBe('OK')
    try {
      // The master lists a replica once its connection is accepted; the full sync after it waits out
      // repl-diskless-sync-delay (5 s), which says nothing about the network.
      await waitFor('web-0 to accept web-1 as its replica', async () =>
        (await redisCli(['-h', web0.ip!, 'INFO', 'replication'])).stdout.includes('connected_slaves:1'), 4000)
    } finally {
      await redisCli(['-h', web1.ip!, 'REPLICAOF', 'NO', 'ONE'])
    }
  }, 15_000)

  it('kubectl scale sts --replicas=1 removes the highest ordinal and keeps its PVC', async () => {
    const before = await pods(sandbox, 'app=web')
    const gone = before.find((p) => p.name === 'web-1')!
    const scaled = await sandbox.kubectl(['scale', 'sts', 'web', '--replicas=1'])
    expect(scaled.code, scaled.stderr).toBe(0)
    const after = await waitFor('web-1 to be gone', async () => {
      const list = await pods(sandbox, 'app=web')
      return list.length === 1 ? list : undefined
    })
    expect(after.map((p) => p.name)).toEqual(['web-0'])
    expect(after[0].uid).toBe(before.find((p) => p.name === 'web-0')!.uid)
    // Its redis-server is stopped too.
    await waitFor('the redis-server of web-1 to stop', async () => (await redisCli(['-h', gone.ip!, '-p', '6379', 'PING'])).code !== 0)
    expect(await names(sandbox, 'pvc')).toContain('persistentvolumeclaim/data-web-1')
  })

  it('kubectl delete pod brings the pod back with a new IP', async () => {
    const [old] = await pods(sandbox, 'app=web')
    const deleted = await sandbox.kubectl(['delete', 'pod', 'web-0', '--wait=true'])
    expect(deleted.code, deleted.stderr).toBe(0)
    const back = await waitFor('web-0 to come back', async () => {
      const list = await pods(sandbox, 'app=web')
      return list.length === 1 && list[0].uid !== old.uid && list[0].ready && list[0].ip ? list[0] : undefined
    })
    remember([back])
    expect(back.name).toBe('web-0')
    expect(back.ip).not.toBe(old.ip)
    expect((await redisCli(['-h', back.ip!, '-p', '6379', 'PING'])).stdout.trim()).toBe('PONG')
  })

  it.each([
    ['tunnelled through WebSocket (kubectl\'s default)', 'true'],
    ['on a SPDY upgrade', 'false'],
  ])('kubectl port-forward pod/web-0 LOCALPORT:6379 carries redis-cli to the pod through API server and kubelet, %s', async (_how, websockets) => {
    const port = await freePort()
    const forward = spawn('kubectl', ['--kubeconfig', sandbox.kubeconfig, 'port-forward', 'pod/web-0', `${port}:6379`],
      {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: websockets}})
    let output = ''
    forward.stdout.on('data', (d: Buffer) => (output += d))
    forward.stderr.on('data', (d: Buffer) => (output += d))
    const exited = new Promise<void>((resolve) => forward.once('exit', () => resolve()))
    try {
      await waitFor('kubectl port-forward to listen', async () => output.includes('Forwarding from') || forward.exitCode !== null, 15_000)
      expect(output).toContain(`Forwarding from 127.0.0.1:${port} -> 6379`)
      const ping = await redisCli(['-p', String(port), 'PING'])
      expect(ping.stdout.trim()).toBe('PONG')
      // A second command on a new connection, and a write that lands on the pod.
      expect((await redisCli(['-p', String(port), 'SET', 'through', 'forward'])).stdout.trim()).toBe('OK')
      const [pod] = await pods(sandbox, 'app=web')
      expect((await redisCli(['-h', pod.ip!, '-p', '6379', 'GET', 'through'])).stdout.trim()).toBe('forward')
    } finally {
      forward.kill('SIGTERM')
      await exited
    }
  })

  it('sandbox status --json lists the nodes and the pods with their IPs', async () => {
    const status = await runCli(['sandbox', 'status', '--dir', sandbox.dir, '--json'])
    expect(status.code).toBe(0)
    const body = json<{running: boolean; nodes: unknown[]; pods: Array<{namespace: string; name: string; ip?: string; node?: string; ready: boolean}>}>(status)
    expect(body.running).toBe(true)
    expect(body.nodes).toHaveLength(3)
    const [web0] = await pods(sandbox, 'app=web')
    expect(body.pods).toEqual([expect.objectContaining({namespace: 'default', name: 'web-0', ip: web0.ip, node: web0.node, ready: true})])
  })

  it('sandbox status without --dir reports the sandbox the exported KUBECONFIG names', async () => {
    const status = await runCli(['sandbox', 'status', '--json'], {env: {KUBECONFIG: sandbox.kubeconfig, REDISCTL_SANDBOX_DIR: undefined}})
    expect(status.code, status.stderr).toBe(0)
    expect(json(status)).toMatchObject({running: true, dir: sandbox.dir, pid: sandbox.pid})
  })

  it('up --image-map on the running sandbox makes pods of that image run the binary it names', async () => {
    const server = join(sandbox.dir, 'redis-7.2', 'bin', 'redis-server')
    await mkdir(join(sandbox.dir, 'redis-7.2', 'bin'), {recursive: true})
    await symlink(findServerBinary('redis-server')!, server)
    const up = await runCli(['sandbox', 'up', '--dir', sandbox.dir, '--image-map', `cache:1=${server}`, '--json'])
    expect(up.code).toBe(0)
    expect(json(up)).toMatchObject({alreadyUp: true, imageMap: join(sandbox.dir, 'image-map')})
    const pod = {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'cached', labels: {app: 'cached'}}, spec: {containers: [{name: 'redis', image: 'cache:1', args: ['--save', '']}]}}
    expect((await sandbox.kubectl(['apply', '-f', '-'], JSON.stringify(pod))).code).toBe(0)
    const [ready] = await waitForReadyPods(sandbox, 'app=cached', 1)
    remember([ready])
    const id = (await sandbox.kubectl(['get', 'pod', 'cached', '-o', 'jsonpath={.status.containerStatuses[0].containerID}'])).stdout
    const cmdline = await readFile(`/proc/${id.replace('sandbox://', '')}/cmdline`, 'utf8')
    expect(cmdline.split(/[\0 ]/)[0]).toBe(server)
  })

  it('up --image-map with a PATH that is not absolute fails with usage (2) and leaves the image map as it was', async () => {
    const before = await readFile(join(sandbox.dir, 'image-map'), 'utf8')
    const up = await runCli(['sandbox', 'up', '--dir', sandbox.dir, '--image-map', 'cache:1=bin/redis-server', '--json'])
    expect(up.code).toBe(2)
    expect(json<{error: {kind: string; message: string}}>(up).error).toMatchObject({kind: 'usage', message: '--image-map "cache:1=bin/redis-server": PATH must be absolute.'})
    expect(await readFile(join(sandbox.dir, 'image-map'), 'utf8')).toBe(before)
  })

  it('up with --dir under a regular file (not writable) fails with usage (2) and starts nothing', async () => {
    const file = join(sandbox.dir, 'not-a-folder')
    await writeFile(file, '')
    const dir = join(file, 'sandbox')
    const up = await runCli(['sandbox', 'up', '--dir', dir, '--json'], {timeoutMs: 15_000})
    expect(up.code).toBe(2)
    expect(json<{error: {kind: string; message: string}}>(up).error).toMatchObject({kind: 'usage'})
    expect(json<{error: {message: string}}>(up).error.message).toContain(dir)
    expect(await daemonPids(dir)).toEqual([])
  })

  it('up with --dir /proc/x (not writable) fails with usage (2) and starts nothing', async () => {
    // The bound catches the old spin on mkdir under /proc (it never returned); a loaded CI machine needs seconds to start the CLI.
    const up = await runCli(['sandbox', 'up', '--dir', '/proc/x', '--json'], {timeoutMs: 45_000})
    expect(await daemonPids('/proc/x')).toEqual([])
    expect(up.code).toBe(2)
    expect(json<{error: {kind: string; message: string}}>(up).error.message).toContain('/proc/x')
  }, 60_000)

  it('up with a --port already in use fails with usage (2) and starts nothing', async () => {
    const busy: Server = createServer()
    const port = await new Promise<number>((resolve) => busy.listen(0, '127.0.0.1', () => resolve((busy.address() as {port: number}).port)))
    const dir = await mkdtemp(join(tmpdir(), 'redisctl-e2e-port-'))
    try {
      const up = await runCli(['sandbox', 'up', '--dir', dir, '--port', String(port), '--json'])
      expect(up.code).toBe(2)
      expect(json<{error: {kind: string; message: string}}>(up).error.message).toContain(String(port))
      expect(await daemonPids(dir)).toEqual([])
      const status = json(await runCli(['sandbox', 'status', '--dir', dir, '--json']))
      expect(status.running).toBe(false)
    } finally {
      busy.close()
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('down (without --dir: the sandbox the exported KUBECONFIG names) stops the daemon and leaves no redis-server of its pods running', async () => {
    expect(seenIps.size).toBeGreaterThanOrEqual(3)
    const down = await runCli(['sandbox', 'down', '--json'], {env: {KUBECONFIG: sandbox.kubeconfig, REDISCTL_SANDBOX_DIR: undefined}})
    expect(down.code).toBe(0)
    expect(json(down)).toMatchObject({wasRunning: true})
    expect(isAlive(sandbox.pid)).toBe(false)
    expect(await daemonPids(sandbox.dir)).toEqual([])
    const left = (await redisServerProcesses()).filter((p) => [...seenIps].some((ip) => p.cmdline.includes(`${ip}:`)) || p.cmdline.includes(sandbox.dir))
    expect(left).toEqual([])
    const status = json(await runCli(['sandbox', 'status', '--dir', sandbox.dir, '--json']))
    expect(status.running).toBe(false)
  })
})

/** Sandbox daemons started for a folder, found by their command line. */
async function daemonPids(dir: string): Promise<number[]> {
  const {readdir, readFile} = await import('node:fs/promises')
  const found: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.includes('daemon-main') && cmdline.split('\0').includes(dir)) found.push(Number(entry))
  }
  return found
}

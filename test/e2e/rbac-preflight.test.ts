import {AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api, RbacAuthorizationV1Api, type V1PolicyRule, type V1Role} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {namespaceRules} from '../../src/kube/permissions.js'
import {json, type CliResult} from '../support/cli.js'
import {redisCli, startE2eSandbox, type E2eSandbox} from './e2e-support.js'

const NAMESPACE = 'ci'

interface JsonError {kind: string; message: string; suggestions: string[]; exitCode: number}

/** Each permission of the Role as the refusal names it (`patch statefulsets.apps/scale`), with its rule's group and resource. */
interface Grant {
  name: string
  verb: string
  group: string
  resource: string
}

/** A command whose plan uses the permission, and which would change something if it were not refused first. */
function commandFor({verb, resource, name}: Grant): {args: string[]; env?: Record<string, string>} {
  if (name === 'get secrets') return {args: ['slots', 'rebalance', '--password-secret', 'redis-password']}
  if (resource === 'pods/portforward') return {args: ['slots', 'rebalance', '--connect', 'port-forward']}
  // A restart rolls the pods itself: it reads the revisions and deletes pods one at a time.
  if (name === 'delete pods' || resource === 'controllerrevisions') return {args: ['restart', '--yes']}
  if (resource === 'pods') return {args: ['slots', 'rebalance']}
  if (verb === 'list' || verb === 'delete') {
    if (resource === 'persistentvolumeclaims') {
      return {args: ['scale', '--masters', '3', '--replicas-per-master', '0', ...(verb === 'delete' ? ['--delete-pvcs', '--yes'] : [])]}
    }
    return {args: ['teardown', '--with-pvcs', '--yes']}
  }
  if (resource === 'statefulsets/scale' || name === 'get statefulsets.apps') return {args: ['scale', '--masters', '4']}
  if (name === 'patch statefulsets.apps') return {args: ['node', 'add']}
  // get, create and patch of what create applies; the Secret only when there is a password.
  return {args: ['cluster', 'create', '--masters', '3', '--replicas-per-master', '1'], env: {REDISCTL_PASSWORD: 'not-used'}}
}

const grantName = (verb: string, group: string, resource: string): string => {
  const [base, sub] = resource.split('/')
  return `${verb} ${base}${group ? `.${group}` : ''}${sub ? `/${sub}` : ''}`
}

/** Every verb on every resource the rules grant. */
const grantsOf = (rules: V1PolicyRule[]): Grant[] => rules.flatMap((rule) => rule.resources!.flatMap((resource) => rule.verbs.map((verb) =>
  ({verb, group: rule.apiGroups![0], resource, name: grantName(verb, rule.apiGroups![0], resource)}))))

/** The rules without one verb on one resource. */
const without = (rules: V1PolicyRule[], gone: Grant): V1PolicyRule[] => rules.flatMap((rule) => {
  if (!rule.apiGroups!.includes(gone.group) || !rule.resources!.includes(gone.resource)) return [rule]
  const others = rule.resources!.filter((r) => r !== gone.resource)
  const rest = rule.verbs.filter((v) => v !== gone.verb)
  return [...(others.length > 0 ? [{...rule, resources: others}] : []), ...(rest.length > 0 ? [{...rule, resources: [gone.resource], verbs: rest}] : [])]
})

/**
 * The permission check before a command changes anything: with one permission of the Role `redisctl rbac` prints
 * taken away at a time, the command whose plan uses it refuses (exit 9), names it, and changes nothing, Kubernetes
 * objects and Redis slots alike. The refusal comes before any Redis work, so each case takes a CLI start.
 */
describe('a ServiceAccount missing one permission of the Role: the command needing it refuses first, naming it', () => {
  let sandbox: E2eSandbox
  /** redisctl as the ServiceAccount. */
  let asJob: E2eSandbox['cli']
  let rbac: RbacAuthorizationV1Api
  let role: V1Role
  let core: CoreV1Api
  let apps: AppsV1Api
  let policy: PolicyV1Api

  /** What any of the commands could change: the namespace's objects, and the slots as the first pod sees them. */
  async function snapshot(): Promise<string[]> {
    const namespace = NAMESPACE
    const lists = await Promise.all([
      core.listNamespacedPod({namespace}), core.listNamespacedPersistentVolumeClaim({namespace}), core.listNamespacedService({namespace}),
      core.listNamespacedConfigMap({namespace}), core.listNamespacedSecret({namespace}), policy.listNamespacedPodDisruptionBudget({namespace}),
      apps.listNamespacedStatefulSet({namespace}),
    ])
    const objects = lists.flatMap((l) => l.items.map((o) => `${o.metadata!.name} ${o.metadata!.uid} ${JSON.stringify((o as {spec?: {replicas?: number}}).spec?.replicas ?? '')}`))
    const first = lists[0].items.find((p) => p.metadata!.name === 'redis-cluster-0')!
    const slots = (await redisCli(['-h', first.status!.podIP!, 'CLUSTER', 'NODES'])).stdout.trim().split('\n')
      .map((line) => line.split(' ')).map(([id, , flags, , , , , , ...ranges]) => `${id} ${flags.replace('myself,', '')} ${ranges.join(' ')}`)
    return [...objects, ...slots].sort()
  }


  async function withRules(rules: V1PolicyRule[], run: () => Promise<CliResult>): Promise<CliResult> {
    await rbac.replaceNamespacedRole({name: role.metadata!.name!, namespace: NAMESPACE, body: {...role, metadata: {name: role.metadata!.name, namespace: NAMESPACE}, rules}})
    try {
      return await run()
    } finally {
      await rbac.replaceNamespacedRole({name: role.metadata!.name!, namespace: NAMESPACE, body: {...role, metadata: {name: role.metadata!.name, namespace: NAMESPACE}}})
    }
  }

  beforeAll(async () => {
    sandbox = await startE2eSandbox({podIpOctet: 58})
    const account = await sandbox.cli(['sandbox', 'kubeconfig', '--dir', sandbox.dir, '--service-account', 'runner', '-n', NAMESPACE, '--json'])
    if (account.code !== 0) throw new Error(`sandbox kubeconfig failed: ${account.stdout}${account.stderr}`)
    const printed = await sandbox.cli(['rbac', '-n', NAMESPACE, '--service-account', 'runner', '--no-nodes', '-o', 'json'])
    const applied = await sandbox.kubectl(['apply', '-f', '-'], printed.stdout)
    if (applied.code !== 0) throw new Error(`kubectl apply of redisctl rbac failed: ${applied.stderr}`)
    role = json<{items: V1Role[]}>(printed).items.find((o) => o.kind === 'Role')!
    const created = await sandbox.cli(['cluster', 'create', '-n', NAMESPACE, '--masters', '3', '--replicas-per-master', '1', '--json'], {timeoutMs: 180_000})
    if (created.code !== 0) throw new Error(`cluster create failed: ${created.stdout}${created.stderr}`)
    const kc = new KubeConfig()
    kc.loadFromFile(sandbox.kubeconfig)
    ;[rbac, core, apps, policy] = [kc.makeApiClient(RbacAuthorizationV1Api), kc.makeApiClient(CoreV1Api), kc.makeApiClient(AppsV1Api), kc.makeApiClient(PolicyV1Api)]
    const kubeconfig = json<{kubeconfig: string}>(account).kubeconfig
    asJob = (args, options = {}) => sandbox.cli(args, {...options, env: {...options.env, KUBECONFIG: kubeconfig}})
  }, 240_000)

  afterAll(async () => {
    await sandbox?.down()
  })

  it('the Role redisctl rbac prints is the one these cases take permissions from', () => {
    expect(role.rules).toEqual(namespaceRules())
  })

  it.each(grantsOf(namespaceRules()).map((g) => [g.name, g] as const))('without %s', async (name, grant) => {
    const {args, env} = commandFor(grant)
    const before = await snapshot()
    const result = await withRules(without(role.rules!, grant), () => asJob([...args, '--json'], {env}))
    expect(result.code, result.stdout + result.stderr).toBe(9)
    const error = json<{error: JsonError}>(result).error
    expect(error).toMatchObject({kind: 'forbidden', exitCode: 9})
    expect(error.message).toContain('so nothing was changed: system:serviceaccount:ci:runner may not ')
    expect(error.message).toMatch(new RegExp(`may not (.*, )?${name.replace(/[./]/g, '\\$&')}(,| in namespace ci)`))
    expect(error.suggestions.join(' ')).toContain('redisctl rbac -n ci')
    expect(await snapshot()).toEqual(before)
  }, 60_000)

  it('names every missing permission at once: a scale in with --delete-pvcs without delete and list on claims', async () => {
    const grant = (name: string): Grant => grantsOf(role.rules!).find((g) => g.name === name)!
    const rules = without(without(role.rules!, grant('delete persistentvolumeclaims')), grant('list persistentvolumeclaims'))
    const result = await withRules(rules, () => asJob(['scale', '--masters', '3', '--replicas-per-master', '0', '--delete-pvcs', '--yes', '--json']))
    expect(result.code).toBe(9)
    expect(json<{error: JsonError}>(result).error.message).toContain('would refuse 2 calls this command needs, so nothing was changed: system:serviceaccount:ci:runner may not list persistentvolumeclaims, delete persistentvolumeclaims in namespace ci.')
  }, 60_000)

  it('a read-only command is not checked beforehand: status reports its first refused call (exit 9) naming verb, resource and namespace', async () => {
    const result = await withRules(without(role.rules!, grantsOf(role.rules!).find((g) => g.name === 'list pods')!), () => asJob(['status', '--json']))
    expect(result.code).toBe(9)
    expect(json<{error: JsonError}>(result).error.message).toContain('system:serviceaccount:ci:runner may not list pods in namespace ci')
  }, 60_000)

  it('a dry run is refused the same way as the run', async () => {
    const grant = grantsOf(role.rules!).find((g) => g.name === 'patch statefulsets.apps/scale')!
    const result = await withRules(without(role.rules!, grant), () => asJob(['scale', '--masters', '4', '--dry-run', '--json']))
    expect(result.code).toBe(9)
    expect(json<{error: JsonError}>(result).error.message).toContain('may not patch statefulsets.apps/scale in namespace ci')
  }, 60_000)
})

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../../cli/flags.js'
import {clusterWords} from '../../cli/format.js'
import {violationWarning} from '../../cli/plans.js'
import type {AppliedObject} from '../../kube/apply.js'
import {DEFAULT_CLUSTER_NAME} from '../../kube/ownership.js'
import {UsageError} from '../../errors.js'
import {tlsSecretName} from '../../tls/cluster-certificates.js'
import {requireValidShape} from '../../topology/shape.js'
import {formatRanges} from '../../topology/slots.js'
import type {CreateContext, CreateInput} from '../../workflows/create.js'
import {plural} from '../../util/words.js'

export interface CreateResult {
  namespace: string
  /** The cluster's StatefulSet: --name, or with --selector the one that owns the pods (absent when none does). */
  name?: string
  dryRun: boolean
  alreadyFormed: boolean
  resumed: boolean
  applied: AppliedObject[]
  masters: Array<{pod: string; k8sNode?: string; zone?: string; slots: string}>
  replicas: Array<{pod: string; master: string; k8sNode?: string; zone?: string}>
  warnings: string[]
  changes: number
}

export default class ClusterCreate extends BaseCommand {
  static override summary = 'Deploy a Redis Cluster as a StatefulSet and form it, or form pods someone else deployed (--selector).'
  static override description = `Applies a ConfigMap, a headless and a client Service, a PodDisruptionBudget and a StatefulSet, waits for the pods, then forms the cluster: slots split evenly, replicas placed on another Kubernetes node (and zone) than their master whenever the pods allow it, and waits until every node reports cluster_state:ok.

With --password-secret the pods require that Secret's password and name the Secret, so later commands (auth rotate too) need no flag. With --selector it adopts pods that are already deployed and applies nothing; the cluster is then named after the StatefulSet that owns them, for this and every later command given the same --selector, with no --name. Running it again on a formed cluster changes nothing (a flag left out keeps what the pods run with; one asking for another image, memory, volume or password is refused, exit 4, with the way to apply it); after an interruption it finishes the job; after a teardown that kept the volumes it brings the cluster back, every key, at the pods' new IPs.`
  static override examples = [
    '<%= config.bin %> cluster create',
    '<%= config.bin %> cluster create --masters 6 --replicas-per-master 1 --memory 1Gi',
    '<%= config.bin %> cluster create --acl',
    '<%= config.bin %> cluster create --selector app=redis-cluster',
    '<%= config.bin %> cluster create --dry-run -o yaml',
  ]

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    masters: Flags.integer({description: 'Number of masters (at least 3). With --selector, derived from the pod count when not given.', default: 3}),
    'replicas-per-master': Flags.integer({description: 'Replicas for each master.', default: 1, min: 0, aliases: ['replicas']}),
    image: Flags.string({description: 'Redis container image.', default: 'redis:7.0'}),
    storage: Flags.string({description: 'Size of each pod\'s data volume.', default: '1Gi'}),
    'storage-class': Flags.string({description: 'StorageClass of the data volumes (default: the cluster\'s default).'}),
    memory: Flags.string({description: 'Memory limit per pod, e.g. 512Mi; maxmemory is set to 80% of it.'}),
    tls: Flags.boolean({description: 'Serve TLS only: redisctl makes a CA and a node certificate for every pod\'s DNS name and keeps them in the Secret <name>-tls (tls.crt, tls.key, ca.crt). A cluster made so stays TLS: later commands need no flag.', default: false}),
    'tls-secret': Flags.string({description: 'Serve TLS only, with the certificates of this Secret (cert-manager\'s layout: tls.crt, tls.key, ca.crt). Implies --tls.'}),
    acl: Flags.boolean({
      description: 'Redis ACL users instead of one password: redisctl-admin (redisctl itself), replication and app (no admin or dangerous commands), each with a generated password in its own Secret; the default user off.',
      default: false,
    }),
    output: Flags.option({char: 'o', description: 'With --dry-run: print only the manifests on stdout (the plan goes to stderr), for GitOps or kubectl apply -f -.', options: ['yaml'] as const})(),
  }

  async run(): Promise<CreateResult> {
    const {flags, metadata} = await this.parse(ClusterCreate)
    const adopt = flags.selector !== undefined
    if (flags.output === 'yaml' && !flags['dry-run']) {
      throw new UsageError('-o yaml prints the manifests a run would apply, so it goes with --dry-run.', ['redisctl cluster create --dry-run -o yaml > cluster.yaml'])
    }
    // Checked here rather than with oclif's `exclusive`, whose usage line would group all three as if
    // --password-secret and --selector excluded each other too.
    if (flags.acl && (adopt || flags['password-secret'] !== undefined)) {
      throw new UsageError(`--acl makes its own users and their Secrets, so it goes with neither --password-secret nor --selector; got --acl with ${adopt ? '--selector' : '--password-secret'}.`)
    }
    if (!adopt) requireValidShape({masters: flags.masters, replicasPerMaster: flags['replicas-per-master']})
    const {openTarget} = await import('../../workflows/session.js')
    const tls = flags.tls || flags['tls-secret'] !== undefined
    const target = await openTarget({...this.targetOptions(flags), tls}, {operation: adopt ? 'adopt' : 'create', acl: flags.acl})
    const given = (flag: keyof typeof flags): boolean => flags[flag] !== undefined && !metadata.flags[flag]?.setFromDefault
    // Only what a create applies is named by spec.name, and an adoption (pods perhaps of no StatefulSet) applies nothing.
    const name = target.name ?? DEFAULT_CLUSTER_NAME
    const input: CreateInput = {
      spec: {
        name, masters: flags.masters, replicasPerMaster: flags['replicas-per-master'], image: flags.image,
        storage: flags.storage, storageClass: flags['storage-class'], memory: flags.memory,
        tlsSecret: flags['tls-secret'] ?? (flags.tls ? tlsSecretName(name) : undefined),
        passwordSecret: flags['password-secret'],
      },
      acl: flags.acl,
      adopt,
      mastersGiven: given('masters'),
      given: new Set([...([['image', 'image'], ['memory', 'memory'], ['storage', 'storage'], ['storageClass', 'storage-class'], ['passwordSecret', 'password-secret']] as const)
        .filter(([, flag]) => given(flag)).map(([field]) => field), ...(tls ? ['tlsSecret' as const] : [])]),
      generateTls: flags.tls && flags['tls-secret'] === undefined,
      connect: flags.connect,
      timeoutMs: flags.timeout * 1000,
    }
    const ctx: CreateContext = {target, input, applied: [], pods: [], actions: []}
    if (flags['dry-run']) return this.dryRun(ctx, flags.output === 'yaml')
    const {createTasks} = await import('../../workflows/create.js')
    const {runTasks} = await import('../../cli/tasks.js')
    try {
      await runTasks(createTasks(), ctx, this)
    } finally {
      await ctx.access?.close()
    }
    const result = this.result(ctx, false)
    this.log(result.alreadyFormed ? `The cluster ${clusterWords(target)} is already formed; nothing changed.` :
      `The cluster ${clusterWords(target)} is formed: ${plural(result.masters.length, 'master')}, ${plural(result.replicas.length, 'replica')}.`)
    for (const line of shardLines(result)) this.log(line)
    for (const warning of result.warnings) this.warn(warning)
    return this.withSessionWarnings(result, target.kube.warnings.all)
  }

  /** The run's own plan, read and refused the same way, changing nothing. */
  private async dryRun(ctx: CreateContext, yaml: boolean): Promise<CreateResult> {
    const {planDryRun} = await import('../../workflows/create.js')
    const plan = await planDryRun(ctx)
    // With -o yaml stdout is the manifests alone, for kubectl apply -f -; the words go to stderr.
    const say = (line: string): void => (yaml ? this.logToStderr(line) : this.log(line))
    for (const line of plan.lines) say(line)
    if (yaml) {
      const {yamlStream} = await import('../../cli/yaml.js')
      this.log(yamlStream(plan.manifests))
    }
    return this.withSessionWarnings(this.result(ctx, true), ctx.target.kube.warnings.all)
  }

  private result(ctx: CreateContext, dryRun: boolean): CreateResult {
    const shards = ctx.plan?.layout.shards ?? []
    return {
      namespace: ctx.target.kube.namespace,
      name: ctx.target.name,
      dryRun,
      alreadyFormed: ctx.plan?.kind === 'formed',
      resumed: ctx.plan?.kind === 'resume',
      applied: ctx.applied,
      masters: shards.map((s) => ({pod: s.master.pod, k8sNode: s.master.k8sNode, zone: s.master.zone, slots: formatRanges(s.slots)})),
      replicas: shards.flatMap((s) => s.replicas.map((r) => ({pod: r.pod, master: s.master.pod, k8sNode: r.k8sNode, zone: r.zone}))),
      warnings: (ctx.plan?.placement.violations ?? []).map(violationWarning),
      changes: ctx.actions.length,
    }
  }
}

const on = (k8sNode: string | undefined): string => (k8sNode ? ` on ${k8sNode}` : '')

/** Each master the run chose, where it runs, its slots and its replicas: the masters the dry run could only name by ordinal. */
function shardLines(result: CreateResult): string[] {
  return result.masters.map((m) => {
    const replicas = result.replicas.filter((r) => r.master === m.pod).map((r) => `${r.pod}${on(r.k8sNode)}`)
    return `  master ${m.pod}${on(m.k8sNode)}, slots ${m.slots}${replicas.length > 0 ? `; ${replicas.length === 1 ? 'replica' : 'replicas'} ${replicas.join(', ')}` : ''}`
  })
}

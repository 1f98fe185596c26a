import {Errors, Flags} from '@oclif/core'

import {ExitCode} from '../errors.js'
import {KUBE_REQUEST_TIMEOUT_MS, REDIS_TIMEOUTS} from '../util/call-bounds.js'
import {formatDuration, parseDuration} from './duration.js'

/** kubectl's habits: where the cluster is and which pods are ours. Declared once, spread into commands. */
export const kubeFlags = {
  kubeconfig: Flags.string({description: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).', helpGroup: 'KUBERNETES'}),
  context: Flags.string({description: 'The kubeconfig context to use (default: its current context).', helpGroup: 'KUBERNETES'}),
  namespace: Flags.string({char: 'n', description: 'Namespace of the Redis pods (default: the context\'s namespace, else "default").', helpGroup: 'KUBERNETES'}),
  selector: Flags.string({char: 'l', description: 'Label selector of the Redis pods (default: the labels redisctl gives the pods of --name).', helpGroup: 'KUBERNETES'}),
  // No oclif default: a --name left out is told from one given, since with -l the selected pods' StatefulSet names the cluster.
  name: Flags.string({
    description: 'Name of the Redis cluster: its StatefulSet, Services and labels (default: with -l/--selector, the StatefulSet that owns the selected pods; else redis-cluster).',
    helpGroup: 'KUBERNETES',
  }),
}

/** How redisctl reaches the Redis pods. */
export const redisFlags = {
  connect: Flags.option({
    description: 'How to reach the pods: direct to pod IPs, port-forward through the Kubernetes API, or auto (direct when pod IPs answer).',
    options: ['auto', 'direct', 'port-forward'] as const,
    default: 'auto',
    helpGroup: 'REDIS',
  })(),
  'password-secret': Flags.string({
    description: 'Secret (in the namespace) whose key "password" holds the Redis password. Not set: REDISCTL_PASSWORD, else the Secret the pods name (cluster create --password-secret names it on them).',
    helpGroup: 'REDIS',
  }),
  'tls-ca-secret': Flags.string({
    description: 'TLS pods redisctl did not make: a Secret with the CA that signed them (ca.crt) and a client certificate (tls.crt, tls.key) if the nodes ask for one. A cluster made with --tls needs neither.',
    helpGroup: 'REDIS',
    exclusive: ['tls-ca-file'],
  }),
  'tls-ca-file': Flags.string({
    description: 'TLS pods redisctl did not make: a PEM file with the CA that signed their certificates (nodes that ask clients for a certificate need --tls-ca-secret).',
    helpGroup: 'REDIS',
  }),
}

const seconds = (ms: number): string => formatDuration(ms / 1000)

/** CI habits for commands that change things. */
export const actionFlags = {
  yes: Flags.boolean({char: 'y', description: 'Answer yes to confirmations (required without a TTY).', default: false}),
  'dry-run': Flags.boolean({description: 'Print the plan and change nothing.', default: false}),
  timeout: timeoutFlag('Bounds each wait (pods Ready, Redis loading, nodes agreeing, replicas in sync): past it the command stops with exit 5 ' +
    `and the same command resumes. Not one call: a Redis command has ${seconds(REDIS_TIMEOUTS.commandMs)} (a slot migration's ` +
    `${seconds(REDIS_TIMEOUTS.migrationMs)}), a Kubernetes API request ${seconds(KUBE_REQUEST_TIMEOUT_MS)}`, 300),
}

/** The one measure of balance: check reports a master past it, slots rebalance moves slots until none is. */
export const thresholdFlags = {
  threshold: Flags.integer({
    description: 'Percent a master\'s slot count may be off its share before it counts as unbalanced (check reports it, slots rebalance moves slots).',
    default: 2,
    min: 0,
    aliases: ['balance-threshold'],
  }),
}

/** Commands that only read (check): a pod that says nothing is reported, not waited for. */
export const answerFlags = {
  timeout: timeoutFlag('Bounds each answer, from the Kubernetes API and from each pod: a pod that does not answer in time is reported as not answering', 10),
}

/** status: what a user running it by hand expects, done within --timeout however many pods are slow. */
export const wholeCommandTimeoutFlags = {
  timeout: timeoutFlag('Bounds the whole command: pods that have not answered by then are shown as not answering (exit 7 when none did), ' +
    'and a Kubernetes API that has not answered by then is exit 6', 10),
}


/**
 * Every --timeout: a duration (30s, 5m, 1500ms, 1m30s, or plain seconds), parsed to seconds by the one parser, so
 * that `--timeout 5m` works wherever --timeout does.
 */
export function timeoutFlag(description: string, defaultSeconds: number) {
  return Flags.custom<number>({
    description: `${description}. A duration: 30s, 5m, 1500ms, or seconds.`,
    default: defaultSeconds,
    defaultHelp: async () => formatDuration(defaultSeconds),
    helpValue: 'DURATION',
    async parse(input) {
      try {
        return parseDuration(input)
      } catch (error) {
        // As oclif's own integer flags refuse: a usage error (exit 2), also under --json.
        throw new Errors.CLIError((error as Error).message, {exit: ExitCode.usage})
      }
    },
  })()
}

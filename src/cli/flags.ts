import {Flags} from '@oclif/core'

/** kubectl's habits: where the cluster is and which pods are ours. Declared once, spread into commands. */
export const kubeFlags = {
  kubeconfig: Flags.string({description: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).', helpGroup: 'KUBERNETES'}),
  context: Flags.string({description: 'The kubeconfig context to use (default: its current context).', helpGroup: 'KUBERNETES'}),
  namespace: Flags.string({char: 'n', description: 'Namespace of the Redis pods (default: the context\'s namespace, else "default").', helpGroup: 'KUBERNETES'}),
  selector: Flags.string({char: 'l', description: 'Label selector of the Redis pods (default: the labels redisctl gives the pods of --name).', helpGroup: 'KUBERNETES'}),
  name: Flags.string({description: 'Name of the Redis cluster: its StatefulSet, Services and labels.', default: 'redis-cluster', helpGroup: 'KUBERNETES'}),
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
    description: 'Secret (in the namespace) whose key "password" holds the Redis password. REDISCTL_PASSWORD is used when not set.',
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

/** CI habits for commands that change things. */
export const actionFlags = {
  yes: Flags.boolean({char: 'y', description: 'Answer yes to confirmations (required without a TTY).', default: false}),
  'dry-run': Flags.boolean({description: 'Print the plan and change nothing.', default: false}),
  timeout: Flags.integer({description: 'Give up after this many seconds.', default: 300, min: 1}),
}

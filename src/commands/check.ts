import {BaseCommand} from '../cli/base-command.js'
import {answerFlags, kubeFlags, redisFlags, thresholdFlags} from '../cli/flags.js'
import {renderTable} from '../cli/table.js'
import {ExitCode} from '../errors.js'
import {checkTopology, type Finding} from '../topology/check.js'
import {type ClusterSummary, describeAgreement, summarize} from '../topology/status.js'

export interface CheckResult {
  namespace: string
  /** The cluster's StatefulSet: --name, or with -l/--selector the one that owns the pods (absent when none does). */
  name?: string
  healthy: boolean
  errors: number
  warnings: number
  findings: Finding[]
  /**
   * Security findings (no authentication, plaintext beside TLS, certificates expired, expiring or not the Secret's),
   * apart from the cluster's health: their errors count in `errors`, their warnings are not in `warnings`.
   */
  security: Finding[]
  /** How many nodes answered and agree: health is claimed only from those. */
  summary: ClusterSummary
}

export default class Check extends BaseCommand {
  static override summary = 'Check the cluster: what redis-cli --cluster check checks, plus what only Kubernetes knows.'
  static override description = `All nodes agree on the slot map, no open slots, all 16384 slots covered, no failed nodes; and also: master and replica on one Kubernetes node or zone, pods not in the cluster, cluster nodes whose pod is gone, masters without a replica or without slots, replicas not in sync (syncing, link down), unbalanced slots, nodes left running a cluster-node-timeout below their redis.conf's (an interrupted create), nodes that run another value of a setting the ConfigMap's redis.conf names than each other or than it (config-drift). Security apart: no authentication (warning), the default user on without a password beside ACL users (error), a plaintext port open beside TLS, certificates expired (an error) or expiring within 30 days, nodes serving another certificate than their Secret's.

Health is claimed only from the nodes that answered: a pod that did not answer within --timeout is an error naming it. Exit code 0 when there are no errors (warnings allowed), 10 when there are errors (also when no node answered); --json lists every finding with its severity.`
  static override examples = ['<%= config.bin %> check', '<%= config.bin %> check --json', '<%= config.bin %> check --timeout 3s']
  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...answerFlags,
    ...thresholdFlags,
  }

  async run(): Promise<CheckResult> {
    const {flags} = await this.parse(Check)
    const [{inspectCluster}, {configuredNodeTimeoutMs}] = await Promise.all([import('../workflows/inspect.js'), import('../manifests/cluster.js')])
    const options = {...this.targetOptions(flags), answerTimeoutMs: flags.timeout * 1000}
    const {namespace, name, topology, redisConf, security = [], configDrift = [], warnings: unseen} =
      await inspectCluster(options, undefined, {redisConf: true, security: true, configDrift: true})
    const findings: Finding[] = [...checkTopology(topology, {
      balanceThresholdPercent: flags.threshold,
      configuredNodeTimeoutMs: redisConf === undefined ? undefined : configuredNodeTimeoutMs(redisConf),
    }), ...configDrift,
      ...unseen.map((message): Finding => ({code: 'kubernetes-access', severity: 'warning', message, pods: []}))]
    const summary = summarize(topology)
    const topologyErrors = findings.filter((f) => f.severity === 'error').length
    const warnings = findings.length - topologyErrors
    const securityErrors = security.filter((f) => f.severity === 'error').length
    const errors = topologyErrors + securityErrors
    if (findings.length === 0 && securityErrors === 0) this.log(`[OK] ${describeAgreement(summary)}, all 16384 slots covered, no open slots, every replica in sync and apart from its master.`)
    else if (findings.length > 0) this.log(findingsTable(findings))
    if (errors > 0) process.exitCode = ExitCode.unhealthy
    if (findings.length > 0 || securityErrors > 0) {
      const verdict = topologyErrors > 0 ? `${topologyErrors} error(s), ${warnings} warning(s). redisctl repair fixes open slots, uncovered slots and stale addresses.` : `No errors; ${warnings} warning(s).`
      const insecure = securityErrors > 0 ? ` ${securityErrors} security error(s), below.` : ''
      this.log(`\n${capitalize(describeAgreement(summary))}. ${verdict}${insecure}`)
    }
    if (security.length > 0) this.log(`\nSecurity:\n${findingsTable(security)}`)
    return {namespace, name, healthy: errors === 0, errors, warnings, findings, security, summary}
  }
}

const findingsTable = (findings: Finding[]): string =>
  renderTable(['severity', 'finding', 'pods', 'message'], findings.map((f) => [f.severity, f.code, f.pods.join(','), f.message]))

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1)

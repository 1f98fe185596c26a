import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {actionFlags, kubeFlags, redisFlags} from '../../cli/flags.js'
import type {RotationPlan} from '../../workflows/auth-rotate.js'
import {plural} from '../../util/words.js'

export interface AuthRotateResult {
  namespace: string
  name: string
  dryRun: boolean
  /** acl: one of the cluster's ACL users; password: the default user of a cluster with one password. */
  mode: RotationPlan['mode']
  user: string
  /** The Secret that now holds the password to use (never the password itself). */
  secret: string
  phase: RotationPlan['phase']
  nothingToDo: boolean
  resumed: boolean
  pods: string[]
  /** What to do next: move the clients, then --finish; or nothing. */
  next: string
  warnings: string[]
}

export default class AuthRotate extends BaseCommand {
  static override summary = 'Rotate a Redis password with no client cut off: add a new one next to the old, then --finish removes the old.'
  static override description = `On a cluster made with --acl it rotates one ACL user's password (--user: app by default, redisctl-admin, replication), kept in that user's Secret; on a cluster with one password (requirepass), the default user's, kept in the Secret named by --password-secret, or else in the one the cluster was made with (cluster create --password-secret names it on the pods).

The new password is added on every node beside the old one (Redis users hold several), the pods' auth include accepts both (a restarted pod keeps them), replicas switch to it when it is theirs (masterauth), and only then the Secret names it, the old one kept under previous-password. Connected clients stay connected; new ones may use either password. Once every client uses the new one, --finish removes the old one from every node, the Secret and the include. Passwords are generated and never printed. Run again after an interruption, it completes what it started.`
  static override examples = [
    '<%= config.bin %> auth rotate',
    '<%= config.bin %> auth rotate --finish',
    '<%= config.bin %> auth rotate --user redisctl-admin',
    '<%= config.bin %> auth rotate --password-secret redis-password',
  ]

  static override flags = {
    ...kubeFlags,
    ...redisFlags,
    ...actionFlags,
    user: Flags.string({description: 'The user whose password changes: app (default), redisctl-admin or replication on an ACL cluster; default on a cluster with one password.'}),
    finish: Flags.boolean({description: 'Remove the previous password, once every client uses the new one.', default: false}),
  }

  async run(): Promise<AuthRotateResult> {
    const {flags} = await this.parse(AuthRotate)
    const {openTarget} = await import('../../workflows/session.js')
    const {prepareRotation, rotationTasks} = await import('../../workflows/auth-rotate.js')
    const options = this.targetOptions(flags)
    const {requireClusterName} = await import('../../workflows/pods.js')
    const target = await openTarget(options, {operation: 'auth-rotate'})
    const name = await requireClusterName(target, 'the Secrets of the pods\' passwords are named after their StatefulSet')
    const ctx = await prepareRotation(options, target, {name, user: flags.user, finish: flags.finish})
    const {plan} = ctx
    try {
      if (plan.nothingToDo) {
        this.log(`No rotation of ${plan.user}'s password to finish: the Secret ${plan.secret} holds one password.`)
      } else if (flags['dry-run']) {
        this.log(plan.phase === 'rotate'
          ? `Would ${plan.resumed ? 'complete the interrupted rotation of' : 'rotate'} ${plan.user}'s password on ${plural(plan.pods.length, 'node')}: a new password added next to the old one${plan.masterauth ? ', replicas switched to it (masterauth)' : ''}, then put in the Secret ${plan.secret}.`
          : `Would remove ${plan.user}'s previous password from ${plural(plan.pods.length, 'node')} and from the Secret ${plan.secret}.`)
      } else {
        const {runTasks} = await import('../../cli/tasks.js')
        await runTasks(rotationTasks(), ctx, this)
      }
    } finally {
      await ctx.cluster.access.close()
    }
    const result = this.result(plan, target.kube.namespace, name, flags['dry-run'], flags.user)
    if (!flags['dry-run'] && !plan.nothingToDo) this.log(result.next)
    for (const warning of plan.warnings) this.warn(warning)
    return this.withSessionWarnings(result, target.kube.warnings.all)
  }

  private result(plan: RotationPlan, namespace: string, name: string, dryRun: boolean, userFlag: string | undefined): AuthRotateResult {
    const again = `redisctl auth rotate${userFlag ? ` --user ${plan.user}` : ''}`
    const next = plan.nothingToDo ? 'Nothing to do.'
      : plan.phase === 'rotate' ? `${plan.user}'s new password is in the Secret ${plan.secret}; the old one still works. Once every client uses the new one: ${again} --finish.`
        : `${plan.user}'s previous password is refused from now on; the Secret ${plan.secret} holds the one password.`
    return {
      namespace, name, dryRun, mode: plan.mode, user: plan.user, secret: plan.secret, phase: plan.phase,
      nothingToDo: plan.nothingToDo, resumed: plan.resumed, pods: plan.pods, next, warnings: [...plan.warnings],
    }
  }
}

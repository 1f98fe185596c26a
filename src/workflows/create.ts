import type {ListrTask} from 'listr2'

import {NotFoundError, PreconditionError} from '../errors.js'
import {applyObjects, type AppliedObject} from '../kube/apply.js'
import {notFoundIn} from '../kube/context.js'
import {listRedisPods, type RedisPod} from '../kube/pods.js'
import {readStatefulSet} from '../kube/statefulset.js'
import {authConfigSecret, clusterManifests, podCount, type ClusterSpec} from '../manifests/cluster.js'
import {FORM_STEPS} from '../redis/form.js'
import {observeCluster, waitWhileLoading} from '../redis/observe.js'
import {planCreate, type CreatePlan} from '../topology/create-plan.js'
import {podAddress} from '../topology/model.js'
import {requireValidShape, shapeForPods, type ClusterShape} from '../topology/shape.js'
import {waitForReadyPods, toPodRefs} from './pods.js'
import {progress} from './progress.js'
import {openRedis, type KubeTargetSession, type RedisAccess, type ConnectMode} from './session.js'

export interface CreateInput {
  spec: Omit<ClusterSpec, 'namespace' | 'withAuth'>
  /** Pods someone else deployed, found by the selector: no manifests are applied. */
  adopt: boolean
  /** Given explicitly: with adoption, masters are otherwise derived from the pod count. */
  mastersGiven: boolean
  connect: ConnectMode
  timeoutMs: number
}

export interface CreateContext {
  target: KubeTargetSession
  input: CreateInput
  shape?: ClusterShape
  applied: AppliedObject[]
  pods: RedisPod[]
  access?: RedisAccess
  plan?: CreatePlan
  actions: string[]
}

export function clusterSpec(ctx: Pick<CreateContext, 'target' | 'input'>): ClusterSpec {
  return {...ctx.input.spec, namespace: ctx.target.kube.namespace, withAuth: Boolean(ctx.target.password)}
}

/** Refuses to re-create over a StatefulSet of another size: that is a scale, not a create. */
async function requireMatchingStatefulSet(ctx: CreateContext): Promise<void> {
  const existing = await readStatefulSet(ctx.target.kube, ctx.input.spec.name)
  const wanted = podCount(ctx.input.spec)
  const replicas = existing?.spec?.replicas
  if (existing && replicas !== wanted) {
    throw new PreconditionError(`The StatefulSet ${ctx.input.spec.name} already exists with ${replicas} pods; ${ctx.input.spec.masters} masters with ${ctx.input.spec.replicasPerMaster} replicas each need ${wanted}.`, [
      `To change the shape of a running cluster use: redisctl scale --masters ${ctx.input.spec.masters}.`,
    ])
  }
}

/**
 * Re-applying would write the given password (or none) into the auth config of running pods; a wrong one would
 * lock clients and replicas out at the next restart. So a pod that is already up must accept it first.
 */
async function requireWorkingPassword(ctx: CreateContext): Promise<void> {
  const running = (await listRedisPods(ctx.target.kube, ctx.target.selector)).filter((p) => p.ready && p.ip)
  if (running.length === 0) return
  const access = await openRedis(ctx.target, running.slice(0, 1), ctx.input.connect)
  try {
    await access.connector.client({host: running[0].ip!, port: running[0].port})
  } finally {
    await access.close()
  }
}

/** The create procedure as data: each task re-checks what is already true, so the whole list can run again. */
export function createTasks(): ListrTask<CreateContext>[] {
  return [
    {
      title: 'Apply the ConfigMap, Services, PodDisruptionBudget and StatefulSet',
      enabled: (ctx) => !ctx.input.adopt,
      task: async (ctx) => {
        ctx.shape = requireValidShape(ctx.input.spec)
        await requireMatchingStatefulSet(ctx)
        await requireWorkingPassword(ctx)
        const spec = clusterSpec(ctx)
        const objects = [...(ctx.target.password ? [authConfigSecret(spec, ctx.target.password)] : []), ...clusterManifests(spec)]
        ctx.applied = await applyObjects(ctx.target.kube, objects)
      },
    },
    {
      title: 'Wait for the pods to be Ready',
      task: async (ctx, task) => {
        const {kube, selector} = ctx.target
        if (ctx.input.adopt) {
          const matching = await listRedisPods(kube, selector)
          if (matching.length === 0) {
            throw await notFoundIn(kube, new NotFoundError(`No pods match the selector "${selector}" in namespace ${kube.namespace}.`, [
              'Check -l/--selector and -n/--namespace (kubectl get pods --show-labels).',
            ]))
          }
          ctx.shape = shapeForPods(matching.length, ctx.input.spec.replicasPerMaster, ctx.input.mastersGiven ? ctx.input.spec.masters : undefined)
        }
        const count = podCount(ctx.shape!)
        ctx.pods = (await waitForReadyPods(kube, selector, count, ctx.input.timeoutMs, {onWaiting: progress(task)})).slice(0, count)
        task.title = `${ctx.pods.length} pods are Ready`
      },
    },
    {
      title: 'Read the nodes and plan the cluster',
      task: async (ctx, task) => {
        ctx.access = await openRedis(ctx.target, ctx.pods, ctx.input.connect)
        const refs = toPodRefs(ctx.pods)
        await waitWhileLoading(ctx.access.connector, refs.map(podAddress), ctx.input.timeoutMs)
        const observation = await observeCluster(ctx.access.connector, refs.map(podAddress))
        ctx.plan = planCreate(refs, observation, {masters: ctx.shape!.masters, replicasPerMaster: ctx.shape!.replicasPerMaster})
        task.title = ctx.plan.kind === 'formed' ? 'The cluster is already formed' :
          ctx.plan.kind === 'resume' ? `Resuming an earlier create (already done: ${ctx.plan.done.join(', ')})` :
            `Planned ${ctx.shape!.masters} masters with ${ctx.shape!.replicasPerMaster} replicas each`
      },
    },
    ...FORM_STEPS.map((step): ListrTask<CreateContext> => ({
      title: step.title,
      skip: (ctx) => (ctx.plan?.kind === 'formed' ? 'already formed' : false),
      task: async (ctx, task) => {
        const actions = await step.run(ctx.access!.connector, ctx.plan!.layout, {
          timeoutMs: ctx.input.timeoutMs,
          onProgress: (p) => progress(task)(p.message),
        })
        ctx.actions.push(...actions)
      },
    })),
  ]
}

import {StopOnSignal} from '../../src/cli/stop.js'
import {runTasks} from '../../src/cli/tasks.js'
import {RedisConnector} from '../../src/redis/connection.js'
import {observeCluster} from '../../src/redis/observe.js'
import {checkTopology, type Finding} from '../../src/topology/check.js'
import {buildTopology, type PodRef} from '../../src/topology/model.js'
import {newRepairContext, repairTasks, type RepairCluster, type RepairContext} from '../../src/workflows/repair.js'

/** The cluster as repair sees it, with the given nodes standing in for the pods Kubernetes would list. */
export function repairTarget(pods: PodRef[], connector = new RedisConnector()): RepairCluster {
  return {
    pods,
    access: {connector, mode: 'direct', reach: (addr) => addr, learn: async () => false, close: () => connector.closeAll()},
    observe: async () => buildTopology(pods, await observeCluster(connector, pods.map((p) => ({host: p.ip, port: p.port})))),
  }
}

/** Runs the whole repair task list (silent renderer) and returns its context: actions done, refusals. */
export async function runRepair(pods: PodRef[], timeoutMs = 30_000): Promise<RepairContext> {
  const target = repairTarget(pods)
  try {
    return await runTasks(repairTasks(), newRepairContext(target, timeoutMs), {jsonEnabled: () => true, stop: new StopOnSignal()})
  } finally {
    await target.access.close()
  }
}

/** Check's errors on the cluster right now. */
export async function checkErrors(pods: PodRef[]): Promise<Finding[]> {
  const target = repairTarget(pods)
  try {
    return checkTopology(await target.observe()).filter((f) => f.severity === 'error')
  } finally {
    await target.access.close()
  }
}

import type {PlacementViolation} from '../topology/placement.js'

/** A replica that would go down with its master, in words. */
export const violationWarning = (v: PlacementViolation): string =>
  `${v.replica.pod} replicates ${v.master.pod} on the same ${v.kind === 'same-node' ? 'Kubernetes node' : 'zone'} (${v.where}): one failure there loses the shard.`

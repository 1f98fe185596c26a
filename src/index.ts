/**
 * Every command by its id, for oclif's explicit command discovery (package.json `oclif.commands`): the bundle is a
 * few files, not a folder per command. The command modules stay light; each imports what it runs when it runs.
 */
import AuthRotate from './commands/auth/rotate.js'
import Check from './commands/check.js'
import ClusterCreate from './commands/cluster/create.js'
import ConfigGet from './commands/config/get.js'
import ConfigSet from './commands/config/set.js'
import DrillFailover from './commands/drill/failover.js'
import Evacuate from './commands/evacuate.js'
import Failover from './commands/failover.js'
import NodeAdd from './commands/node/add.js'
import NodeAddReplica from './commands/node/add-replica.js'
import NodeDel from './commands/node/del.js'
import NodeDelReplica from './commands/node/del-replica.js'
import Rbac from './commands/rbac.js'
import Repair from './commands/repair.js'
import Restart from './commands/restart.js'
import Rollout from './commands/rollout.js'
import SandboxDown from './commands/sandbox/down.js'
import SandboxKubeconfig from './commands/sandbox/kubeconfig.js'
import SandboxStatus from './commands/sandbox/status.js'
import SandboxUp from './commands/sandbox/up.js'
import Scale from './commands/scale.js'
import SlotsRebalance from './commands/slots/rebalance.js'
import SlotsReshard from './commands/slots/reshard.js'
import Status from './commands/status.js'
import Teardown from './commands/teardown.js'
import TlsRotate from './commands/tls/rotate.js'

export const COMMANDS = {
  'auth:rotate': AuthRotate,
  check: Check,
  'cluster:create': ClusterCreate,
  'config:get': ConfigGet,
  'config:set': ConfigSet,
  'drill:failover': DrillFailover,
  evacuate: Evacuate,
  failover: Failover,
  'node:add': NodeAdd,
  'node:add-replica': NodeAddReplica,
  'node:del': NodeDel,
  'node:del-replica': NodeDelReplica,
  rbac: Rbac,
  repair: Repair,
  restart: Restart,
  rollout: Rollout,
  'sandbox:down': SandboxDown,
  'sandbox:kubeconfig': SandboxKubeconfig,
  'sandbox:status': SandboxStatus,
  'sandbox:up': SandboxUp,
  scale: Scale,
  'slots:rebalance': SlotsRebalance,
  'slots:reshard': SlotsReshard,
  status: Status,
  teardown: Teardown,
  'tls:rotate': TlsRotate,
}

/** Named in package.json (oclif.hooks), as the commands are: the bundle has no file per hook. */
export {commandNotFound as COMMAND_NOT_FOUND} from './cli/not-found.js'

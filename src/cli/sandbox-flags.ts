import {Flags} from '@oclif/core'

export const sandboxDirFlag = {
  dir: Flags.string({description: 'Folder for the sandbox\'s state (default: $REDISCTL_SANDBOX_DIR; then, but for sandbox up, the sandbox whose kubeconfig $KUBECONFIG names; else ~/.local/state/redisctl/sandbox).'}),
}

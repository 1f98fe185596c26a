import {execute, settings} from '@oclif/core'

/** Runs the command line with oclif, the package (package.json, oclif.manifest.json) at `root`. */
export async function runOclif(root: string): Promise<void> {
  // The bundle is the program: oclif must not look for TypeScript sources to run instead (it does when NODE_ENV is
  // development or test).
  settings.enableAutoTranspile = false
  await execute({dir: root})
}

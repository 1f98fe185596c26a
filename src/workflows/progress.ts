/** Waits report on every poll; the plain renderer prints every output, so only changes get a line. */
export const progress = (task: {output: string | undefined}) => (message: string): void => {
  if (task.output !== message) task.output = message
}

/**
 * The redis-server command line the kubelet runs: the container's own arguments, then the options that make
 * the process behave like a container on its pod IP. They come last so that they win over the config file
 * and the container's arguments. Without bind-source-addr, peers would see every cluster-bus connection
 * coming from 127.0.0.1 and the cluster would never join.
 */
export function serverArgs(containerArgs: readonly string[], podIp: string): string[] {
  // The official redis image is built with protected mode off, since clients and peers come from other pods; the
  // host's redis-server has it on. Stating it first (after the config file) keeps that default while the
  // container's own arguments can still turn it on; a config file's own protected-mode line is overridden.
  const config = configFileOf(containerArgs)
  const rest = config === undefined ? containerArgs : containerArgs.slice(1)
  return [...(config === undefined ? [] : [config]), '--protected-mode', 'no', ...rest, '--bind', podIp, '--bind-source-addr', podIp, '--daemonize', 'no']
}

/** The config file redis-server reads: its first argument unless that is an option. */
export function configFileOf(args: readonly string[]): string | undefined {
  const first = args[0]
  return first !== undefined && !first.startsWith('--') && first !== '-' ? first : undefined
}

/**
 * The port redis-server will listen on: the last `--port` argument, else the last `port` directive of the
 * config file, else 6379. A server that turns its plain port off (`port 0`) listens on its `tls-port`, found the same way.
 */
export function listeningPort(args: readonly string[], configText = ''): number {
  const plain = setting(args, configText, 'port')
  if (plain !== '0') return toPort(plain ?? '6379')
  return toPort(setting(args, configText, 'tls-port') ?? '6379')
}

/** A setting's value as redis-server takes it: the last command-line argument wins over the config file's last line. */
function setting(args: readonly string[], configText: string, name: string): string | undefined {
  const fromArgs = lastValue(args, `--${name}`)
  if (fromArgs !== undefined) return fromArgs
  let fromConfig: string | undefined
  const directive = new RegExp(`^\\s*${name}\\s+"?(\\d+)"?\\s*$`, 'i')
  for (const line of configText.split('\n')) {
    const match = directive.exec(line)
    if (match) fromConfig = match[1]
  }
  return fromConfig
}

function lastValue(args: readonly string[], option: string): string | undefined {
  let value: string | undefined
  for (let i = 0; i < args.length; i++) {
    if (args[i].toLowerCase() === option && i + 1 < args.length) value = args[i + 1]
  }
  return value
}

function toPort(text: string): number {
  const port = Number(text)
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : 6379
}

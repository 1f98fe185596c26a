import {posix} from 'node:path'

/**
 * The sandbox's one deviation from a real kubelet: there are no mount namespaces, so a container path
 * under a volumeMount's mountPath must be rewritten to the host folder that backs the volume. The kubelet
 * does this in command/args and in materialised ConfigMap files.
 */
export interface Mount {
  /** Absolute path inside the container (volumeMount.mountPath). */
  containerPath: string
  /** Host path backing it (the volume's folder, joined with subPath when there is one). */
  hostPath: string
}

/** The host path for a container path, or undefined when no mount covers it. The deepest mount wins. */
export function hostPathFor(path: string, mounts: readonly Mount[]): string | undefined {
  const mount = bestMount(posix.normalize(path), mounts)
  if (!mount) return undefined
  const rest = posix.normalize(path).slice(trimSlash(mount.containerPath).length)
  return mount.hostPath + rest
}

/**
 * Rewrites every absolute path in a text (an argument, a redis.conf) that lies under a mount. A path starts
 * at the beginning of the text or after whitespace, a quote, `=` or `:`, and ends at whitespace, a quote or
 * the end; paths under no mount are left alone.
 */
export function rewritePaths(text: string, mounts: readonly Mount[]): string {
  if (mounts.length === 0) return text
  return text.replace(/(^|[\s"'=:])(\/[^\s"']*)/g, (whole, lead: string, path: string) => {
    const host = hostPathFor(path, mounts)
    return host === undefined ? whole : lead + host
  })
}

function bestMount(path: string, mounts: readonly Mount[]): Mount | undefined {
  let best: Mount | undefined
  for (const mount of mounts) {
    const base = trimSlash(mount.containerPath)
    const covers = path === base || path.startsWith(base + '/') || base === ''
    if (covers && (!best || base.length > trimSlash(best.containerPath).length)) best = mount
  }
  return best
}

const trimSlash = (path: string): string => posix.normalize(path).replace(/\/+$/, '')

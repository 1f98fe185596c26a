import type {RedisPod} from './pods.js'

/**
 * Each pod's DNS name and its IP now. TLS nodes announce their pods' DNS names (cluster-announce-hostname) and are
 * verified by them, while redisctl reaches them at their IPs (the names resolve only inside the cluster); a pod that
 * is recreated keeps its name and comes back at a new IP, which a later listing teaches (learn).
 */
export class PodAddresses {
  private readonly ipByName = new Map<string, string>()
  private readonly nameByIp = new Map<string, string>()

  constructor(pods: readonly RedisPod[]) {
    this.learn(pods)
  }

  /** The DNS name of the pod at this IP. */
  nameAt(ip: string): string | undefined {
    return this.nameByIp.get(ip)
  }

  /** The IP of the pod with this DNS name, as last listed. */
  ipOf(name: string): string | undefined {
    return this.ipByName.get(name)
  }

  /**
   * Takes a listing of the pods; true when a pod is new or at another IP than before. A pod listed without an IP
   * (deleted, not yet running again) keeps its last one: a connection there fails as the pod's own would.
   */
  learn(pods: readonly RedisPod[]): boolean {
    let changed = false
    for (const {ip, dnsName} of pods) {
      if (!ip || !dnsName || this.ipByName.get(dnsName) === ip) continue
      const before = this.ipByName.get(dnsName)
      if (before) this.nameByIp.delete(before)
      this.ipByName.set(dnsName, ip)
      this.nameByIp.set(ip, dnsName)
      changed = true
    }
    return changed
  }
}

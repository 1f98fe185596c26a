/**
 * A failed TCP connect worded as Go's net package words it (`dial tcp 127.80.255.1:10250: connect: connection
 * refused`), since that is what kube-apiserver and the kubelet put into the errors their clients see.
 */
export function dialError(error: NodeJS.ErrnoException, host: string, port: number): string {
  if (error.code === 'ENOTFOUND') return `dial tcp: lookup ${host}: no such host`
  const reason: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    EADDRNOTAVAIL: 'connect: cannot assign requested address',
    ETIMEDOUT: 'i/o timeout',
  }
  return `dial tcp ${host}:${port}: ${reason[error.code ?? ''] ?? error.message}`
}

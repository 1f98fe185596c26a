/**
 * A Redis StatefulSet someone else wrote, for adoption tests: none of redisctl's labels (its pods are app=NAME plus
 * `labels`), plain redis-server in cluster mode on `port`, the pod IP announced.
 */
export function handWrittenStatefulSet(name: string, replicas: number, options: {port?: number; labels?: Record<string, string>; extraArgs?: string[]} = {}): string {
  const {port = 6379, labels = {}, extraArgs = []} = options
  const podLabels = Object.entries({app: name, ...labels}).map(([k, v]) => `${k}: ${v}`).join(', ')
  return `
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ${name}
spec:
  serviceName: ${name}
  replicas: ${replicas}
  podManagementPolicy: Parallel
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {${podLabels}}
    spec:
      containers:
      - name: redis
        image: redis:7.0
        command: ["redis-server"]
        args: ["--port", "${port}", "--cluster-enabled", "yes", "--cluster-announce-ip", "$(POD_IP)", "--save", "", "--appendonly", "no"${extraArgs.map((a) => `, "${a}"`).join('')}]
        env:
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        ports:
        - {name: redis, containerPort: ${port}}
`
}

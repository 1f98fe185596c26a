#!/usr/bin/env bash
# The demo's steps, run with the built CLI. Each step is what a user would type.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
redisctl() { node bin/run.js "$@"; }
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

export REDISCTL_SANDBOX_DIR="${REDISCTL_SANDBOX_DIR:-$(mktemp -d /tmp/redisctl-demo-XXXXXX)}"
cleanup() { redisctl sandbox down --purge >/dev/null 2>&1 || true; }
trap cleanup EXIT

step redisctl sandbox up
redisctl sandbox up
export KUBECONFIG="$REDISCTL_SANDBOX_DIR/kubeconfig"

step kubectl get nodes -L topology.kubernetes.io/zone
if command -v kubectl >/dev/null; then kubectl get nodes -L topology.kubernetes.io/zone; else echo "(kubectl is not installed; skipping)"; fi

step redisctl cluster create --masters 3 --replicas-per-master 1
redisctl cluster create --masters 3 --replicas-per-master 1

step "load 20000 keys through a cluster client"
node scripts/demo-load.mjs write 20000

step redisctl status
redisctl status
step redisctl scale --masters 4
redisctl scale --masters 4
node scripts/demo-load.mjs verify 20000

step redisctl status
redisctl status

step redisctl check
redisctl check

step redisctl scale --masters 3 --dry-run
redisctl scale --masters 3 --dry-run

step redisctl scale --masters 3 --yes
redisctl scale --masters 3 --yes
node scripts/demo-load.mjs verify 20000

step redisctl status
redisctl status

step redisctl teardown --with-pvcs --yes
redisctl teardown --with-pvcs --yes

step redisctl sandbox down --purge
redisctl sandbox down --purge
trap - EXIT

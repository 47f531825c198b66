#!/usr/bin/env bash
# Installs the pinned external servers the orchestrator runs against into .tools/.
set -euo pipefail

# 2.12.7+ keeps a block's write cache while a consumer reads at the head of the stream; 2.12.1 reloaded
# the whole block from disk on the next write (measured: 2.9 -> 1.0 ms of nats-server CPU per correlation).
NATS_SERVER_VERSION=v2.12.15
NATS_SERVER_GO_MIN=1.25
TEMPORAL_CLI_VERSION=v1.5.1 # later tags carry a replace directive and cannot be go-installed
TEMPORAL_CLI_GO_MIN=1.25
# The real server, its SQL schema tool and the standalone UI, for the cluster engine (--engine cluster):
# the same server version the CLI embeds, and the UI release of its module graph.
TEMPORAL_SERVER_VERSION=v1.29.1
TEMPORAL_UI_SERVER_VERSION=v2.42.1
POSTGRES_MAJOR=15
TEST_SERVER_VERSION=1.38.0
SLF4J_NOP_VERSION=1.7.36
DEPENDENCY_PLUGIN_VERSION=3.6.1
# promtool, for test/monitoring (the alerting rules' check and unit tests). Prometheus 3.x.y is the Go
# module version v0.3xx.y: v0.316.0 is Prometheus 3.16.0. Built without service discovery
# (-tags remove_all_sd: no cloud SDKs), which rules do not need: 224 s instead of 371 s from cold.
PROMTOOL_VERSION=v0.316.0 # needs Go 1.26.7
# kustomize and kubeconform, for test/deploy: every kustomization under deploy/ built by the real
# kustomize, its output validated strictly against the schemas pinned in test/fixtures/k8s-schemas.
KUSTOMIZE_VERSION=v5.8.2 # v5.8.3 needs Go 1.27
KUBECONFORM_VERSION=v0.8.0
TEST_TOOLS_GO_MIN=1.26.7 # promtool's floor; one floor for the test tools
# The OpenTelemetry Collector of test/tracing, built from tools/otelcol: its go.mod and go.sum pin every
# module, all at one collector release.
OTELCOL_GO_MIN=1.26
# The Node.js LTS of the container image (the Dockerfile's FROM names the same release), for
# test/e2e/node-lts.test.ts: Node.js's own build, as the npm registry ships it (node-<os>-<arch>).
NODE_LTS_VERSION=24.22.3

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_DIR=${ORCH_TOOLS_DIR:-$REPO_DIR/.tools}
mkdir -p "$TOOLS_DIR"
TOOLS_DIR=$(cd "$TOOLS_DIR" && pwd)
BIN_DIR=$TOOLS_DIR/bin
STAMP_DIR=$TOOLS_DIR/stamps
LOG_FILE=$TOOLS_DIR/install.log
CHROMIUM_BIN=/usr/bin/chromium
OPENSSL_BIN=/usr/bin/openssl
POSTGRES_BIN_DIR=/usr/lib/postgresql/$POSTGRES_MAJOR/bin
SHELLCHECK_BIN=/usr/bin/shellcheck
ALL_TOOLS=(nats-server temporal temporal-server temporal-ui-server temporal-test-server promtool kustomize kubeconform otelcol node-lts postgresql chromium openssl shellcheck)

usage() {
  cat <<EOF
Usage: scripts/install-tools.sh [--only <tool>] [--quiet] [--help]

Installs pinned tools into \${ORCH_TOOLS_DIR:-<repo>/.tools}/bin:
  nats-server            $NATS_SERVER_VERSION   (go install)
  temporal               $TEMPORAL_CLI_VERSION    (go install, or without Go the Temporal SDK's download of it; Temporal CLI with dev server and web UI)
  temporal-server        $TEMPORAL_SERVER_VERSION   (go install; with temporal-sql-tool and the PostgreSQL schema, for --engine cluster)
  temporal-ui-server     $TEMPORAL_UI_SERVER_VERSION   (go install; the standalone Temporal UI, for --engine cluster)
  temporal-test-server   $TEST_SERVER_VERSION    (Maven; Java time-skipping test server)
  promtool               $PROMTOOL_VERSION  (go install; Prometheus's rules checker, for test/monitoring)
  kustomize              $KUSTOMIZE_VERSION    (go install; builds deploy/'s kustomizations, for test/deploy)
  kubeconform            $KUBECONFORM_VERSION    (go install; validates their output offline, for test/deploy)
  otelcol                tools/otelcol    (go install; OpenTelemetry Collector with the OTLP receiver and file exporter, for test/tracing)
  node-lts               $NODE_LTS_VERSION    (npm pack node-<os>-<arch>; the container image's Node.js, for test/e2e/node-lts)
  postgresql             Debian package   (apt-get, as root; PostgreSQL $POSTGRES_MAJOR at $POSTGRES_BIN_DIR, for --engine cluster)
  chromium               Debian package   (apt-get, as root; at $CHROMIUM_BIN, for test/ui: the Temporal UI test)
  openssl                Debian package   (apt-get, as root; at $OPENSSL_BIN, for test/security: test certificates)
  shellcheck             Debian package   (apt-get, as root; at $SHELLCHECK_BIN, for test/static: the shell scripts' check)

For each tool the first match wins:
  1. an executable named by NATS_SERVER_PATH / TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH
     (not for temporal-server and temporal-ui-server: their schema and config must match the build)
  2. .tools/bin/<tool> installed by this script (stamp in .tools/stamps/)
  3. <tool> on PATH (not for temporal-test-server)
  4. install it
Env-var and PATH tools are symlinked into .tools/bin. postgresql, chromium, openssl and shellcheck are not: they are
Debian's packages, installed system-wide when missing.

Options:
  --only <tool>   handle only this tool (${ALL_TOOLS[*]})
  --quiet         print only what was installed or changed, not cache hits
  --help          show this help
EOF
}

ONLY=""
QUIET=0
while (($#)); do
  case $1 in
    --only) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; ONLY=$2; shift 2 ;;
    --quiet) QUIET=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install-tools: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [[ -n $ONLY && ! " ${ALL_TOOLS[*]} " == *" $ONLY "* ]]; then
  echo "install-tools: unknown tool '$ONLY' (expected one of: ${ALL_TOOLS[*]})" >&2
  exit 2
fi

mkdir -p "$BIN_DIR" "$STAMP_DIR"
# Two concurrent bootstraps must not build into the same GOBIN at once.
if command -v flock >/dev/null; then
  exec 9>"$TOOLS_DIR/.install.lock"
  flock 9
fi

# Milliseconds since the epoch. Not $EPOCHREALTIME: macOS's bash 3.2 lacks it; node is there wherever npm is.
now_ms() { node -e 'process.stdout.write(String(Date.now()))'; }
since() {
  local ms=$(($(now_ms) - $1))
  if ((ms < 10000)); then printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100)); else printf '%ds' $(((ms + 500) / 1000)); fi
}
# The SHA-256 of standard input, in hex (macOS has shasum, not sha256sum).
sha256_stdin() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi | cut -d' ' -f1; }
# report <cached|done|warn> <line>: prints the line and appends it to install.log (cache hits not with --quiet).
report() {
  local kind=$1 line=$2
  if [[ $kind == cached && $QUIET == 1 ]]; then return; fi
  if [[ $kind == warn ]]; then echo "$line" >&2; else echo "$line"; fi
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $line" >>"$LOG_FILE"
}
die() {
  echo "install-tools: $*" >&2
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) FAILED: $*" >>"$LOG_FILE"
  exit 1
}

stamp_file() { echo "$STAMP_DIR/$1-$2"; }
is_stamped() { [[ -f $(stamp_file "$1" "$2") && -x $BIN_DIR/$1 && ! -L $BIN_DIR/$1 ]]; }
write_stamp() {
  rm -f "$STAMP_DIR/$1"-*
  date -u +%Y-%m-%dT%H:%M:%SZ >"$(stamp_file "$1" "$2")"
}

# link_tool <name> <label> <target> <how>: makes .tools/bin/<name> point at an external executable.
link_tool() {
  local name=$1 label=$2 target=$3 how=$4
  target=$(readlink -f "$target")
  if [[ -L $BIN_DIR/$name && $(readlink "$BIN_DIR/$name") == "$target" ]]; then
    report cached "$label: using $target ($how)"
    return
  fi
  # The replaced binary is no longer ours, so its stamp must not vouch for it.
  rm -f "$STAMP_DIR/$name"-*
  ln -sfn "$target" "$BIN_DIR/$name"
  report 'done' "$label: linked $target ($how)"
}

# from_env <name> <label> <var>: returns 0 if the env var names the tool (and links it).
from_env() {
  local name=$1 label=$2 var=$3 value=${!3:-}
  [[ -n $value ]] || return 1
  [[ -x $value && ! -d $value ]] || die "$var=$value is not an executable file"
  link_tool "$name" "$label" "$value" "from $var"
}

# from_path <name> <label>: returns 0 if the tool is on PATH outside .tools/bin (and links it).
from_path() {
  local name=$1 label=$2 found
  found=$(command -v "$name" 2>/dev/null) || return 1
  [[ $(readlink -f "$found") != "$(readlink -f "$BIN_DIR/$name" 2>/dev/null)" ]] || return 1
  link_tool "$name" "$label" "$found" "from PATH"
}

# go_at_least <min>: true if `go` exists and its version is >= min (major.minor).
go_at_least() {
  command -v go >/dev/null || return 1
  local have min=$1
  have=$(go env GOVERSION 2>/dev/null) || return 1
  have=${have#go}
  [[ $(printf '%s\n%s\n' "$min" "$have" | sort -V | head -n1) == "$min" ]]
}

# go_install <stamp name> <label> <version> <built:installed ...> -- <go install args...>: builds into a
# scratch GOBIN, then moves each built binary to .tools/bin under its installed name (several
# Temporal modules name their main package `server`).
go_install() {
  local name=$1 label=$2 version=$3 start log scratch pair
  shift 3
  local renames=()
  while [[ $1 != -- ]]; do renames+=("$1"); shift; done
  shift
  start=$(now_ms)
  log=$TOOLS_DIR/build-$name.log
  scratch=$TOOLS_DIR/go/bin-$name
  rm -rf "$scratch"
  for pair in "${renames[@]}"; do rm -f "$BIN_DIR/${pair#*:}"; done
  # -modcacherw keeps .tools/go/mod deletable with a plain rm -rf.
  if ! GOBIN=$scratch GOMODCACHE=$TOOLS_DIR/go/mod GOCACHE=$TOOLS_DIR/go/cache GOTOOLCHAIN=local \
    GOFLAGS=-modcacherw go install "$@" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "$label: go install failed (full output in $log)"
  fi
  for pair in "${renames[@]}"; do mv "$scratch/${pair%%:*}" "$BIN_DIR/${pair#*:}"; done
  rm -rf "$scratch"
  write_stamp "$name" "$version"
  report 'done' "$label: built with go install in $(since "$start")"
}

install_nats_server() {
  local name=nats-server label="nats-server $NATS_SERVER_VERSION"
  from_env $name "$label" NATS_SERVER_PATH && return
  is_stamped $name $NATS_SERVER_VERSION && { report cached "$label: cached"; return; }
  from_path $name "$label" && return
  if go_at_least $NATS_SERVER_GO_MIN; then
    go_install $name "$label" $NATS_SERVER_VERSION nats-server:nats-server -- "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
  elif [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    local start
    start=$(now_ms)
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q nats-server >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q nats-server >/dev/null; } ||
      die "$label: Go >= $NATS_SERVER_GO_MIN not found and 'apt-get install nats-server' failed"
    link_tool $name "nats-server (Debian package)" "$(command -v nats-server)" "apt-get install in $(since "$start")"
  else
    die "$label: needs Go >= $NATS_SERVER_GO_MIN to build it. Install Go, or point NATS_SERVER_PATH at a nats-server executable."
  fi
}

# download_temporal_cli <label>: without Go, the Temporal SDK's own download of the same CLI release
# (what its tests fetch), copied into .tools/bin. Needs the internet once.
download_temporal_cli() {
  local label=$1 start found
  start=$(now_ms)
  [[ -d $REPO_DIR/node_modules/@temporalio/testing ]] || die "$label: Go >= $TEMPORAL_CLI_GO_MIN not found, and the Temporal SDK is not installed to download the CLI instead: run npm install first"
  if ! found=$(cd "$REPO_DIR" && node scripts/download-temporal-cli.js "$TEMPORAL_CLI_VERSION" "$TOOLS_DIR/sdk-download" 2>&1); then
    die "$label: Go >= $TEMPORAL_CLI_GO_MIN not found to build it, and the Temporal SDK could not download it either ($found). Install Go >= $TEMPORAL_CLI_GO_MIN, or connect to the internet, or set TEMPORAL_CLI_PATH to an existing temporal executable."
  fi
  cp "$found" "$BIN_DIR/temporal"
  write_stamp temporal "$TEMPORAL_CLI_VERSION"
  report 'done' "$label: downloaded by the Temporal SDK in $(since "$start") (no Go >= $TEMPORAL_CLI_GO_MIN to build it)"
}

install_temporal_cli() {
  local name=temporal label="temporal CLI $TEMPORAL_CLI_VERSION"
  from_env $name "$label" TEMPORAL_CLI_PATH && return
  is_stamped $name $TEMPORAL_CLI_VERSION && { report cached "$label: cached"; return; }
  from_path $name "$label" && return
  if ! go_at_least $TEMPORAL_CLI_GO_MIN; then
    download_temporal_cli "$label"
    return
  fi
  go_install $name "$label" $TEMPORAL_CLI_VERSION temporal:temporal -- \
    -ldflags "-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION#v}" \
    "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
}

# module_dir <module path> <version>: where go install left a module's source (schema, config files).
module_dir() { echo "$TOOLS_DIR/go/mod/$1@$2"; }

# The real Temporal server and its SQL tool, built together, with the PostgreSQL schema they
# expect next to them (.tools/temporal-server/schema), as the admin-tools image has it.
install_temporal_server() {
  local name=temporal-server label="temporal-server $TEMPORAL_SERVER_VERSION"
  local dir=$TOOLS_DIR/temporal-server
  if is_stamped $name $TEMPORAL_SERVER_VERSION && [[ -x $BIN_DIR/temporal-sql-tool && -d $dir/schema/postgresql ]]; then
    report cached "$label: cached"
    return
  fi
  # Only the cluster engine needs it: the dev engine (npm start's default) runs without it.
  go_at_least $TEMPORAL_CLI_GO_MIN || { skip_without_go "$label" $TEMPORAL_CLI_GO_MIN "npm start --engine cluster and test/cluster"; return; }
  go_install $name "$label" $TEMPORAL_SERVER_VERSION server:temporal-server sql:temporal-sql-tool -- \
    "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
  rm -rf "$dir" && mkdir -p "$dir"
  cp -R "$(module_dir go.temporal.io/server $TEMPORAL_SERVER_VERSION)/schema" "$dir/schema"
  chmod -R u+w "$dir"
}

# The standalone UI server, with the configuration template its image runs (config/docker.yaml:
# TEMPORAL_ADDRESS, TEMPORAL_UI_PORT, TEMPORAL_CODEC_ENDPOINT, ...).
install_temporal_ui_server() {
  local name=temporal-ui-server label="temporal-ui-server $TEMPORAL_UI_SERVER_VERSION"
  local dir=$TOOLS_DIR/temporal-ui-server
  if is_stamped $name $TEMPORAL_UI_SERVER_VERSION && [[ -f $dir/config/docker.yaml ]]; then
    report cached "$label: cached"
    return
  fi
  # Only the cluster engine needs it: the dev engine (npm start's default) runs without it.
  go_at_least $TEMPORAL_CLI_GO_MIN || { skip_without_go "$label" $TEMPORAL_CLI_GO_MIN "npm start --engine cluster and test/cluster"; return; }
  go_install $name "$label" $TEMPORAL_UI_SERVER_VERSION server:temporal-ui-server -- \
    "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_SERVER_VERSION"
  rm -rf "$dir" && mkdir -p "$dir/config"
  cp "$(module_dir github.com/temporalio/ui-server/v2 $TEMPORAL_UI_SERVER_VERSION)/config/docker.yaml" "$dir/config/docker.yaml"
  chmod -R u+w "$dir"
}

# skip_without_go <label> <go version> <what needs it>: a tool only some tests need, and no Go to build it.
skip_without_go() {
  report warn "$1: WARNING: not installed, it needs Go >= $2 to build; $3 will say so"
}

# install_go_command <name> <version> <go package> <what needs it> [go install flags...]: a command
# built from a Go module at a pinned version, named after its package's last path element.
install_go_command() {
  local name=$1 version=$2 package=$3 needed_by=$4
  shift 4
  local label="$name $version"
  is_stamped "$name" "$version" && { report cached "$label: cached"; return; }
  go_at_least $TEST_TOOLS_GO_MIN || { skip_without_go "$label" $TEST_TOOLS_GO_MIN "$needed_by"; return; }
  go_install "$name" "$label" "$version" "$name:$name" -- ${1+"$@"} "$package@$version"
}

# The collector built from tools/otelcol; the stamp is its sources' hash, so any change rebuilds it.
install_otelcol() {
  local name=otelcol dir=$REPO_DIR/tools/otelcol version label
  version=$(cat "$dir/go.mod" "$dir/go.sum" "$dir/main.go" | sha256_stdin | cut -c1-16)
  label="otelcol $(awk '$1 == "go.opentelemetry.io/collector/otelcol" { print $2 }' "$dir/go.mod") (tools/otelcol)"
  is_stamped $name "$version" && { report cached "$label: cached"; return; }
  go_at_least $OTELCOL_GO_MIN || { skip_without_go "$label" $OTELCOL_GO_MIN test/tracing; return; }
  go_install $name "$label" "$version" otelcol:otelcol -- -C "$dir" .
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  die "no free TCP port found"
}

# warm_test_server <label>: starts the server once so the first SDK start (5 s budget) hits a warm page cache.
warm_test_server() {
  local label=$1 port pid start waited=0
  port=$(free_port)
  start=$(now_ms)
  "$BIN_DIR/temporal-test-server" "$port" >"$TOOLS_DIR/temporal-test-server/warmup.log" 2>&1 &
  pid=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || ((waited >= 300)); then
      kill -9 "$pid" 2>/dev/null || true
      report warn "$label: WARNING: test server did not accept connections (see $TOOLS_DIR/temporal-test-server/warmup.log)"
      return
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  report 'done' "$label: warm start ready in $(since "$start")"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

install_test_server() {
  local name=temporal-test-server label="temporal-test-server $TEST_SERVER_VERSION"
  local dir=$TOOLS_DIR/temporal-test-server start java_bin
  from_env $name "$label" TEMPORAL_TEST_SERVER_PATH && return
  is_stamped $name $TEST_SERVER_VERSION && { report cached "$label: cached"; return; }
  if ! java_bin=$(command -v java) || ! command -v mvn >/dev/null; then
    report warn "$label: WARNING: java and/or mvn not found, not installed; time-skipping tests will let the Temporal SDK download its own test server (needs internet). Set TEMPORAL_TEST_SERVER_PATH to use an existing one."
    return
  fi
  start=$(now_ms)
  rm -rf "${dir:?}/lib"
  mkdir -p "$dir"
  cat >"$dir/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.orchestrator</groupId>
  <artifactId>temporal-test-server-tools</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$TEST_SERVER_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>$SLF4J_NOP_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  if ! (cd "$dir" && mvn -B -q -Dmaven.repo.local="$TOOLS_DIR/m2" \
    "org.apache.maven.plugins:maven-dependency-plugin:$DEPENDENCY_PLUGIN_VERSION:copy-dependencies" \
    -DoutputDirectory=lib -DincludeScope=runtime >"$dir/mvn.log" 2>&1); then
    tail -n 20 "$dir/mvn.log" >&2
    die "$label: Maven could not fetch the test server (full output in $dir/mvn.log)"
  fi
  rm -f "$BIN_DIR/$name"
  # exec matters: the SDK stops the server with SIGKILL, which a waiting shell would not pass on to the JVM.
  cat >"$BIN_DIR/$name" <<EOF
#!/bin/sh
# Generated by scripts/install-tools.sh. Usage: temporal-test-server <port> [--enable-time-skipping]
exec "$java_bin" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \\
  -cp "\$(dirname "\$0")/../temporal-test-server/lib/*" io.temporal.testserver.TestServer "\$@"
EOF
  chmod +x "$BIN_DIR/$name"
  write_stamp $name $TEST_SERVER_VERSION
  report 'done' "$label: fetched with mvn in $(since "$start")"
  warm_test_server "$label"
}

# The container image's Node.js, unpacked from the npm registry's package of Node.js's own build.
install_node_lts() {
  local name=node-lts label="Node.js $NODE_LTS_VERSION" dir=$TOOLS_DIR/node-lts package start
  is_stamped $name $NODE_LTS_VERSION && { report cached "$label: cached"; return; }
  start=$(now_ms)
  package=node-$(node -p 'process.platform + "-" + process.arch')
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$package@$NODE_LTS_VERSION" >/dev/null 2>&1) ||
    die "$label: npm pack $package@$NODE_LTS_VERSION failed (is the npm registry reachable?)"
  tar -xzf "$dir"/*.tgz -C "$dir" && rm -f "$dir"/*.tgz
  [[ -x $dir/package/bin/node ]] || die "$label: $package@$NODE_LTS_VERSION has no bin/node"
  mv "$dir/package/bin/node" "$BIN_DIR/$name" && rm -rf "$dir"
  write_stamp $name $NODE_LTS_VERSION
  report 'done' "$label: unpacked from $package in $(since "$start")"
}

# A Debian package, for tools that need their system libraries: Chromium for test/ui (the Temporal
# UI browser test, driven by playwright-core) and openssl for test/security (certificates made at
# test time). Only those tests need them: a failure is a warning, not the end of the bootstrap.
#   install_debian_package <package> <binary> <what needs it>
install_debian_package() {
  local package=$1 binary=$2 needed_by=$3
  local label="$package (Debian package)" start version
  if [[ -x $binary ]]; then
    version=$("$binary" --version 2>/dev/null | head -n1) || version=""
    [[ -n $version ]] || version=$("$binary" version 2>/dev/null | head -n1) || version=""
    report cached "$label: ${version:-present} at $binary"
    return
  fi
  if ! command -v apt-get >/dev/null; then
    report warn "$label: WARNING: $binary is missing and apt-get is not available, not installed; $needed_by needs it. Install $package at $binary."
    return
  fi
  if [[ $(id -u) != 0 ]]; then
    report warn "$label: WARNING: $binary is missing and installing it needs root, not installed; $needed_by needs it. Run as root: apt-get update && apt-get install -y $package"
    return
  fi
  local log=$TOOLS_DIR/apt-$package.log step
  start=$(now_ms)
  export DEBIAN_FRONTEND=noninteractive
  : >"$log"
  for step in update "install -y $package"; do
    # shellcheck disable=SC2086 # $step is two or three words on purpose
    if ! apt-get $step -q >>"$log" 2>&1; then
      tail -n 20 "$log" >&2
      report warn "$label: WARNING: 'apt-get $step' failed (full output in $log), not installed; $needed_by needs $binary."
      return
    fi
  done
  if [[ ! -x $binary ]]; then
    report warn "$label: WARNING: apt-get installed $package but $binary is still missing; $needed_by needs it."
    return
  fi
  report 'done' "$label: installed with apt-get in $(since "$start")"
}

for tool in "${ALL_TOOLS[@]}"; do
  [[ -z $ONLY || $ONLY == "$tool" ]] || continue
  case $tool in
    nats-server) install_nats_server ;;
    temporal) install_temporal_cli ;;
    temporal-server) install_temporal_server ;;
    temporal-ui-server) install_temporal_ui_server ;;
    temporal-test-server) install_test_server ;;
    promtool) install_go_command promtool $PROMTOOL_VERSION github.com/prometheus/prometheus/cmd/promtool test/monitoring -tags remove_all_sd ;;
    kustomize) install_go_command kustomize $KUSTOMIZE_VERSION sigs.k8s.io/kustomize/kustomize/v5 test/deploy ;;
    kubeconform) install_go_command kubeconform $KUBECONFORM_VERSION github.com/yannh/kubeconform/cmd/kubeconform test/deploy ;;
    otelcol) install_otelcol ;;
    node-lts) install_node_lts ;;
    postgresql) install_debian_package postgresql-$POSTGRES_MAJOR "$POSTGRES_BIN_DIR/postgres" "the cluster engine (--engine cluster, test/cluster)" ;;
    chromium) install_debian_package chromium "$CHROMIUM_BIN" "the UI test (test/ui)" ;;
    openssl) install_debian_package openssl "$OPENSSL_BIN" "the security tests (test/security)" ;;
    shellcheck) install_debian_package shellcheck "$SHELLCHECK_BIN" "the shell scripts' check (test/static)" ;;
  esac
done

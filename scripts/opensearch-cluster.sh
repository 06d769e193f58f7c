#!/usr/bin/env bash
# A local three-node OpenSearch cluster on 127.0.0.1 for newsearch's tests and for trying the
# OpenSearch backend: downloaded from Maven Central (the integ-test zip, no security plugin:
# plain HTTP), unpacked outside git's view, one folder per node.
#
#   scripts/opensearch-cluster.sh start          download once, start the nodes, wait for green
#   scripts/opensearch-cluster.sh stop           stop every node by pid (data is kept)
#   scripts/opensearch-cluster.sh status         which nodes run, the cluster's health
#   scripts/opensearch-cluster.sh stop-node N    stop node N (0-2) by pid, gracefully
#   scripts/opensearch-cluster.sh kill-node N    kill node N (SIGKILL: a crash)
#   scripts/opensearch-cluster.sh start-node N   start node N again, wait until it joined
#   scripts/opensearch-cluster.sh wipe           stop, then delete every node's data
#   scripts/opensearch-cluster.sh urls           the nodes' URLs, comma-separated
#   scripts/opensearch-cluster.sh check          exit 0 when Java 21+ and Maven are present
#
# Environment: NEWSEARCH_OPENSEARCH_HOME (default: .opensearch/ in the repository),
# NEWSEARCH_OPENSEARCH_HTTP_PORT (first HTTP port, default 9200; transport ports are 100 up),
# NEWSEARCH_OPENSEARCH_HEAP (default 512m), NEWSEARCH_OPENSEARCH_WAIT (seconds to wait for
# green, default 300), JAVA_HOME (any JDK 21+; otherwise one is looked for in /usr/lib/jvm).
# Processes are only ever signalled by the pids this script recorded or found by a node's own
# config path, never by name. Every command is safe to repeat.
set -euo pipefail

VERSION=3.8.0
ARTIFACT="org.opensearch.distribution.integ-test-zip:opensearch:${VERSION}:zip"
NODES=3
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HOME_DIR="${NEWSEARCH_OPENSEARCH_HOME:-$ROOT/.opensearch}"
HTTP_BASE="${NEWSEARCH_OPENSEARCH_HTTP_PORT:-9200}"
TRANSPORT_BASE=$((HTTP_BASE + 100))
HEAP="${NEWSEARCH_OPENSEARCH_HEAP:-512m}"
WAIT="${NEWSEARCH_OPENSEARCH_WAIT:-300}"
INSTALL="$HOME_DIR/opensearch-$VERSION"
RUN_USER=opensearch
STOP_GRACE=30

say() { printf 'opensearch-cluster: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

node_dir() { printf '%s/node%s' "$HOME_DIR" "$1"; }
http_port() { printf '%s' $((HTTP_BASE + $1)); }
url_of() { printf 'http://127.0.0.1:%s' "$(http_port "$1")"; }

urls() {
  local out="" n
  for ((n = 0; n < NODES; n++)); do out+="${out:+,}$(url_of "$n")"; done
  printf '%s\n' "$out"
}

# --- prerequisites ----------------------------------------------------------------------------

java_major() {  # the major version of the java binary $1, or nothing
  "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\)[."].*/\1/p' | head -n1
}

find_java_home() {
  local candidates=() c v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  candidates+=(/usr/lib/jvm/temurin-25-jdk-amd64)
  for c in /usr/lib/jvm/*; do candidates+=("$c"); done
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] || continue
    v="$(java_major "$c/bin/java")"
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then printf '%s\n' "$c"; return 0; fi
  done
  return 1
}

check() {
  local ok=0
  if ! find_java_home >/dev/null; then say "no Java 21 or newer found (set JAVA_HOME)"; ok=1; fi
  if ! command -v mvn >/dev/null 2>&1; then say "Maven (mvn) is not installed"; ok=1; fi
  return "$ok"
}

install() {
  [ -x "$INSTALL/bin/opensearch" ] && return 0
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to download OpenSearch $VERSION"
  mkdir -p "$HOME_DIR/dist"
  say "downloading OpenSearch $VERSION from Maven Central (cached in ~/.m2 afterwards)"
  mvn -q -B dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$HOME_DIR/dist" >&2 \
    || die "downloading $ARTIFACT with Maven failed"
  rm -rf "$INSTALL.partial"
  mkdir -p "$INSTALL.partial"
  unzip -q "$HOME_DIR/dist/opensearch-$VERSION.zip" -d "$INSTALL.partial"
  mv "$INSTALL.partial/opensearch-$VERSION" "$INSTALL"
  rmdir "$INSTALL.partial"
  rm -f "$HOME_DIR/dist/opensearch-$VERSION.zip"  # ~/.m2 keeps the download
  chmod -R a+rX "$INSTALL"
}

# OpenSearch refuses to run as root: as root, nodes run as a system user of their own.
as_root() { [ "$(id -u)" -eq 0 ]; }

ensure_user() {
  as_root || return 0
  id "$RUN_USER" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
}

configure_node() {
  local n=$1 dir seeds="" m
  dir="$(node_dir "$n")"
  mkdir -p "$dir/data" "$dir/logs" "$dir/tmp"
  rm -rf "$dir/config"
  cp -r "$INSTALL/config" "$dir/config"
  for ((m = 0; m < NODES; m++)); do seeds+="${seeds:+, }\"127.0.0.1:$((TRANSPORT_BASE + m))\""; done
  cat >"$dir/config/opensearch.yml" <<EOF
cluster.name: newsearch-test
node.name: node$n
network.host: 127.0.0.1
http.port: $(http_port "$n")
transport.port: $((TRANSPORT_BASE + n))
path.data: $dir/data
path.logs: $dir/logs
discovery.seed_hosts: [$seeds]
cluster.initial_cluster_manager_nodes: [node0, node1, node2]
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  # jvm.options writes the GC log, heap dumps and crash files relative to the install folder,
  # which the node's user cannot write (and which the nodes share): point them at the node.
  sed -i -e '/^-Xm[sx]/d' \
    -e "s#HeapDumpPath=data#HeapDumpPath=$dir/data#" \
    -e "s#ErrorFile=logs/#ErrorFile=$dir/logs/#" \
    -e "s#file=logs/gc.log#file=$dir/logs/gc.log#" \
    "$dir/config/jvm.options"
  if as_root; then chown -R "$RUN_USER:" "$dir"; fi
}

# --- processes ------------------------------------------------------------------------------

# The pid of node N's JVM: from its pid file, or (before the node wrote it, some seconds after
# launch) the process whose command line names the node's own config folder.
node_pid() {
  local n=$1 dir pid p
  dir="$(node_dir "$n")"
  if [ -f "$dir/opensearch.pid" ]; then
    pid="$(cat "$dir/opensearch.pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && is_node_process "$pid" "$dir"; then printf '%s\n' "$pid"; return 0; fi
  fi
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    if is_node_process "$pid" "$dir"; then printf '%s\n' "$pid"; return 0; fi
  done
  return 1
}

is_node_process() {  # is pid $1 a JVM running with node folder $2 (not a recycled pid)?
  [ -r "/proc/$1/cmdline" ] || return 1
  local args
  # Read whole before matching: in a pipe, grep -q quits at the match and, with pipefail, the
  # writer's SIGPIPE made a running node look stopped (a long JVM command line).
  args="$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
  grep -qxF -- "-Dopensearch.path.conf=$2/config" <<<"$args"
}

start_node_process() {
  local n=$1 dir java_home opts cmd
  dir="$(node_dir "$n")"
  if node_pid "$n" >/dev/null; then say "node$n is already running"; return 0; fi
  java_home="$(find_java_home)" || die "OpenSearch needs Java 21 or newer; set JAVA_HOME"
  # Written afresh at each start: a config left by a run on other ports would bind those.
  configure_node "$n"
  rm -f "$dir/opensearch.pid"
  # The C1-only JIT halves the start-up CPU time on a small machine; the temp folder and
  # -XX:-UsePerfData keep the JVM's files out of /tmp.
  opts="-Xms$HEAP -Xmx$HEAP -XX:-UsePerfData -XX:TieredStopAtLevel=1"
  cmd="ulimit -Sn \"\$(ulimit -Hn)\"; cd '$INSTALL' && exec env -i PATH=/usr/bin:/bin \
JAVA_HOME='$java_home' OPENSEARCH_PATH_CONF='$dir/config' OPENSEARCH_TMPDIR='$dir/tmp' \
OPENSEARCH_JAVA_OPTS='$opts' bin/opensearch -d -p '$dir/opensearch.pid'"
  if as_root; then
    # runuser goes through pam_limits, which lowers the open-files limit: raised again above.
    runuser -u "$RUN_USER" -- /bin/bash -c "$cmd" >>"$dir/logs/launch.log" 2>&1 \
      || die "node$n did not start; see $dir/logs/"
  else
    /bin/bash -c "$cmd" >>"$dir/logs/launch.log" 2>&1 || die "node$n did not start; see $dir/logs/"
  fi
  say "node$n launched ($(url_of "$n"))"
}

# Signal the given pids (TERM, or KILL), then wait until they are gone; TERM becomes KILL for
# any that outlive STOP_GRACE seconds.
stop_pids() {
  local sig=$1; shift
  local pid t
  [ $# -eq 0 ] && return 0
  kill "-$sig" "$@" 2>/dev/null || true
  for ((t = 0; t < STOP_GRACE * 5; t++)); do
    local alive=0
    for pid in "$@"; do [ -d "/proc/$pid" ] && alive=1; done
    [ "$alive" -eq 0 ] && return 0
    sleep 0.2
  done
  for pid in "$@"; do
    if [ -d "/proc/$pid" ]; then say "pid $pid ignored SIGTERM for ${STOP_GRACE}s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  done
}

running_count() {
  local n c=0
  for ((n = 0; n < NODES; n++)); do node_pid "$n" >/dev/null && c=$((c + 1)); done
  printf '%s\n' "$c"
}

# --- the cluster's health -------------------------------------------------------------------

health() {  # the health JSON from the first node that answers, or nothing
  local n query=${1:-}
  for ((n = 0; n < NODES; n++)); do
    if curl -sf --max-time 5 "$(url_of "$n")/_cluster/health${query}" 2>/dev/null; then return 0; fi
  done
  return 1
}

wait_for() {  # wait_for STATUS NODES: until the cluster reports it, or WAIT seconds passed
  local status=$1 nodes=$2 deadline=$((SECONDS + WAIT)) out
  while ((SECONDS < deadline)); do
    out="$(health "?wait_for_status=$status&wait_for_nodes=$nodes&timeout=2s" || true)"
    if [ -n "$out" ] && ! grep -q '"timed_out":true' <<<"$out"; then return 0; fi
    if [ "$(running_count)" -lt "$nodes" ]; then
      say "only $(running_count) of $nodes nodes are running"; return 1
    fi
    sleep 1
  done
  return 1
}

# --- commands -------------------------------------------------------------------------------

cmd_start() {
  check || die "cannot start the cluster without Java 21+ and Maven"
  install
  ensure_user
  local n started=$SECONDS
  for ((n = 0; n < NODES; n++)); do
    [ -d "$(node_dir "$n")/config" ] || configure_node "$n"
    start_node_process "$n"
  done
  say "waiting for green with $NODES nodes (up to ${WAIT}s)"
  if ! wait_for green "$NODES"; then
    say "the cluster did not turn green within ${WAIT}s; logs in $HOME_DIR/node*/logs/"
    health || true
    exit 1
  fi
  say "green after $((SECONDS - started))s: $(urls)"
}

cmd_stop() {
  local n pids=() pid
  # Read every pid first: a node's pid file disappears as it shuts down.
  for ((n = 0; n < NODES; n++)); do
    if pid="$(node_pid "$n")"; then pids+=("$pid"); fi
  done
  if [ ${#pids[@]} -eq 0 ]; then say "no node is running"; return 0; fi
  say "stopping pids ${pids[*]}"
  stop_pids TERM "${pids[@]}"
  say "stopped"
}

node_arg() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] && [ "$1" -lt "$NODES" ] || die "name a node: 0 to $((NODES - 1))"
}

cmd_stop_node() {
  local sig=$1 n=$2 pid
  node_arg "$n"
  if ! pid="$(node_pid "$n")"; then say "node$n is not running"; return 0; fi
  say "node$n: SIG$sig to pid $pid"
  stop_pids "$sig" "$pid"
  rm -f "$(node_dir "$n")/opensearch.pid"  # a killed node leaves it behind
}

cmd_start_node() {
  local n=$1
  node_arg "$n"
  [ -x "$INSTALL/bin/opensearch" ] || die "not installed yet: run start first"
  if node_pid "$n" >/dev/null; then say "node$n is already running"; return 0; fi
  start_node_process "$n"
  if ! wait_for yellow "$NODES"; then die "node$n did not join within ${WAIT}s; see $(node_dir "$n")/logs/"; fi
  say "node$n joined"
}

cmd_status() {
  local n pid running=0 out
  for ((n = 0; n < NODES; n++)); do
    if pid="$(node_pid "$n")"; then
      running=$((running + 1)); printf 'node%s  %s  pid %s\n' "$n" "$(url_of "$n")" "$pid"
    else
      printf 'node%s  %s  stopped\n' "$n" "$(url_of "$n")"
    fi
  done
  if out="$(health)"; then
    printf 'health  %s\n' "$(sed -n 's/.*"status":"\([a-z]*\)".*"number_of_nodes":\([0-9]*\).*/\1, \2 nodes/p' <<<"$out")"
  else
    printf 'health  no node answers\n'
  fi
  [ "$running" -gt 0 ]
}

cmd_wipe() {
  cmd_stop
  local n
  for ((n = 0; n < NODES; n++)); do rm -rf "$(node_dir "$n")"; done
  say "node data removed"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  stop-node) cmd_stop_node TERM "${2:-}" ;;
  kill-node) cmd_stop_node KILL "${2:-}" ;;
  start-node) cmd_start_node "${2:-}" ;;
  wipe) cmd_wipe ;;
  urls) urls ;;
  check) check ;;
  *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

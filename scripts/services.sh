#!/usr/bin/env bash
# Starts and stops the services the integration tests use, on loopback and fixed test ports:
#   SeaweedFS S3  http://127.0.0.1:18333  (bucket tcfs, one admin identity)
#   NATS          nats://127.0.0.1:14222  (JetStream; monitoring on 18222)
#
#   scripts/services.sh up       start both, wait until they answer, write .tools/services.env
#   scripts/services.sh down     stop both and delete their data
#   scripts/services.sh status   say what runs; exit 0 only when both answer
#
# Data lives in a temp dir (recorded in .tools/services/data-dir); logs in .tools/services/.
set -euo pipefail
# shellcheck source=lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"

S3_PORT=18333
MASTER_PORT=18933
VOLUME_PORT=18940
FILER_PORT=18888
ADMIN_PORT=18535
NATS_PORT=14222
NATS_MONITOR_PORT=18222
S3_BUCKET=tcfs
S3_REGION=us-east-1
STARTUP_TIMEOUT_SECONDS=60

STATE_DIR="$TCFS_TOOLS/services"
ENV_FILE="$TCFS_TOOLS/services.env"
WEED_LOG="$STATE_DIR/weed.log"
NATS_LOG="$STATE_DIR/nats.log"
S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
NATS_MONITOR="http://127.0.0.1:$NATS_MONITOR_PORT"

say() { echo "services: $*" >&2; }

# What each service's recorded process runs; a pid file that names anything else is stale.
declare -A COMMAND_OF=([weed]=scripts/seaweedfs/run.sh [nats]=nats-server)

# Prints the pid recorded for a service if that process is still ours and alive, else fails.
running_pid() {
  local pid_file="$STATE_DIR/$1.pid" pid command_line
  [[ -f "$pid_file" ]] || return 1
  pid="$(<"$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # After a reboot the pid may belong to an unrelated process, which must not be signalled.
  command_line="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 1
  [[ "$command_line" == *"${COMMAND_OF[$1]}"* ]] || return 1
  echo "$pid"
}

port_in_use() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Signed S3 request; prints the HTTP status ("000" when nothing answers).
s3_status() {
  local access secret
  access="$(<"$STATE_DIR/s3-access")"
  secret="$(<"$STATE_DIR/s3-secret")"
  # The credentials go through a curl config on stdin so they never appear in `ps`.
  printf 'user = "%s:%s"\n' "$access" "$secret" |
    curl --silent --output /dev/null --write-out '%{http_code}' --max-time 5 --config - \
      --aws-sigv4 "aws:amz:$S3_REGION:s3" "$@" || true
}

s3_answers() { [[ "$(s3_status --head "$S3_ENDPOINT/$S3_BUCKET")" == 200 ]]; }
nats_answers() { curl --silent --fail --max-time 5 "$NATS_MONITOR/healthz?js-enabled-only=true" >/dev/null; }

# Waits until `check` succeeds; on timeout or when the process dies, shows the log and fails.
wait_until() {
  local name="$1" pid="$2" log="$3" check="$4" deadline=$((SECONDS + STARTUP_TIMEOUT_SECONDS))
  until "$check"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "$name exited during startup; last lines of $log:"
      tail -n 30 "$log" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      say "$name did not answer within ${STARTUP_TIMEOUT_SECONDS}s; last lines of $log:"
      tail -n 30 "$log" >&2
      return 1
    fi
    sleep 0.2
  done
}

# Starts a command detached from this shell (it outlives `up`) and records its pid.
start_detached() {
  local name="$1" log="$2"
  shift 2
  setsid "$@" </dev/null >"$log" 2>&1 &
  echo "$!" >"$STATE_DIR/$name.pid"
}

write_s3_identity() {
  local access secret
  access="tcfs-test-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  secret="$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')"
  (
    umask 077
    printf '%s' "$access" >"$STATE_DIR/s3-access"
    printf '%s' "$secret" >"$STATE_DIR/s3-secret"
    cat >"$STATE_DIR/s3.json" <<EOF
{"identities": [{"name": "tcfs-test",
  "credentials": [{"accessKey": "$access", "secretKey": "$secret"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
EOF
  )
}

create_bucket() {
  local status
  status="$(s3_status --request PUT "$S3_ENDPOINT/$S3_BUCKET")"
  # 409 BucketAlreadyOwnedByYou is fine: `up` may be finishing an earlier half-done start.
  [[ "$status" == 200 || "$status" == 409 ]] || {
    say "creating bucket $S3_BUCKET at $S3_ENDPOINT failed with HTTP $status; see $WEED_LOG"
    return 1
  }
}

# Fails naming the port when something we did not start already listens on it.
check_ports_free() {
  local port
  for port in "$@"; do
    if port_in_use "$port"; then
      say "port $port on 127.0.0.1 is taken by another process (see: ss -ltnp 'sport = :$port')"
      say "stop it, or run scripts/services.sh down if it is a leftover of an earlier run"
      return 1
    fi
  done
}

start_weed() {
  check_ports_free "$S3_PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT" "$ADMIN_PORT" \
    $((S3_PORT + 10000)) $((MASTER_PORT + 10000)) $((VOLUME_PORT + 10000)) \
    $((FILER_PORT + 10000)) $((ADMIN_PORT + 10000))
  write_s3_identity
  start_detached weed "$WEED_LOG" "$TCFS_ROOT/scripts/seaweedfs/run.sh" "$DATA_DIR/seaweedfs" \
    "$STATE_DIR/s3.json" "$S3_PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT" "$ADMIN_PORT"
  local pid
  pid="$(<"$STATE_DIR/weed.pid")"
  wait_until SeaweedFS "$pid" "$WEED_LOG" s3_lists_buckets
  create_bucket
  wait_until SeaweedFS "$pid" "$WEED_LOG" s3_answers
}

s3_lists_buckets() { [[ "$(s3_status "$S3_ENDPOINT/")" == 200 ]]; }

start_nats() {
  check_ports_free "$NATS_PORT" "$NATS_MONITOR_PORT"
  mkdir -p "$DATA_DIR/nats"
  start_detached nats "$NATS_LOG" nats-server --jetstream --store_dir "$DATA_DIR/nats" \
    --addr 127.0.0.1 --port "$NATS_PORT" --http_port "$NATS_MONITOR_PORT" \
    --server_name tcfs-test
  wait_until nats-server "$(<"$STATE_DIR/nats.pid")" "$NATS_LOG" nats_answers
}

write_env_file() {
  local tmp="$ENV_FILE.tmp"
  (
    umask 077
    cat >"$tmp" <<EOF
# Written by scripts/services.sh up; removed by scripts/services.sh down.
export TCFS_S3_ENDPOINT=$S3_ENDPOINT
export TCFS_S3_ACCESS=$(<"$STATE_DIR/s3-access")
export TCFS_S3_SECRET=$(<"$STATE_DIR/s3-secret")
export TCFS_S3_BUCKET=$S3_BUCKET
export TCFS_NATS_URL=nats://127.0.0.1:$NATS_PORT
export TCFS_TEST_WEED_LOG=$WEED_LOG
export TCFS_TEST_NATS_LOG=$NATS_LOG
EOF
  )
  mv "$tmp" "$ENV_FILE"
}

# Stops one service with `signal`, escalating to SIGKILL if it is still there after 10 s.
stop_service() {
  local name="$1" signal="$2" pid
  if pid="$(running_pid "$name")"; then
    kill -"$signal" "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name did not stop on SIG$signal within 10s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
  fi
  rm -f "$STATE_DIR/$name.pid"
}

cmd_up() {
  mkdir -p "$STATE_DIR"
  if running_pid weed >/dev/null && running_pid nats >/dev/null && [[ -f "$ENV_FILE" ]] &&
    s3_answers && nats_answers; then
    return 0
  fi
  # Whatever is half up from an earlier run goes first, so `up` always ends in a known state.
  cmd_down
  mkdir -p "$STATE_DIR"
  DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tcfs-services.XXXXXX")"
  echo "$DATA_DIR" >"$STATE_DIR/data-dir"
  local started=$SECONDS
  # Any failing step ends the script (errexit); this trap then takes down what did start.
  trap cmd_down EXIT
  start_weed
  start_nats
  write_env_file
  trap - EXIT
  say "SeaweedFS S3 on $S3_ENDPOINT and NATS on nats://127.0.0.1:$NATS_PORT are up" \
    "($((SECONDS - started))s); env in ${ENV_FILE#"$TCFS_ROOT/"}"
}

cmd_down() {
  stop_service weed TERM
  stop_service nats TERM
  if [[ -f "$STATE_DIR/data-dir" ]]; then
    local data_dir
    data_dir="$(<"$STATE_DIR/data-dir")"
    # Only ever delete what `up` made.
    [[ "$data_dir" == */tcfs-services.* ]] && rm -rf "$data_dir"
    rm -f "$STATE_DIR/data-dir"
  fi
  rm -f "$ENV_FILE" "$STATE_DIR/s3-access" "$STATE_DIR/s3-secret" "$STATE_DIR/s3.json"
}

cmd_status() {
  local ok=0 pid
  if pid="$(running_pid weed)" && [[ -f "$STATE_DIR/s3-access" ]] && s3_answers; then
    echo "SeaweedFS: up (pid $pid), S3 $S3_ENDPOINT, bucket $S3_BUCKET"
  else
    echo "SeaweedFS: down"
    ok=1
  fi
  if pid="$(running_pid nats)" && nats_answers; then
    echo "NATS: up (pid $pid), nats://127.0.0.1:$NATS_PORT, monitoring $NATS_MONITOR"
  else
    echo "NATS: down"
    ok=1
  fi
  return "$ok"
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*)
  echo "usage: $0 up|down|status" >&2
  exit 2
  ;;
esac

#!/usr/bin/env bash
# No-op costs (issue 13): on one device that pushed N small text files, a no-op push,
# `sync-status` and a no-op pull, each timed by GNU time (wall, user + system CPU, peak RSS).
# A quicker look than scale.sh at what grows with the tree when nothing changed. Not a test.
#
#   scripts/bench/noop.sh [--files N] [--runs N] [--checkout DIR]... [--cpu-prof DIR]
#
# --checkout runs the steps with another checkout's code (default: this one); given several
# times, every step runs with each in turn on the same tree and state, so that a shared
# machine's load falls on both alike. --cpu-prof writes a V8 CPU profile of every step to DIR.
# Logs every run's figures, then prints a Markdown table of their medians.
# Uses the services that are up (scripts/services.sh up); leaves them as they are, but for the
# run's bucket, which it deletes.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../lib/deno-flags.sh
source "$TCFS_ROOT/scripts/lib/deno-flags.sh"

FILES=20000
RUNS=1
CHECKOUTS=()
PROFILE_DIR=""
usage="usage: $0 [--files N] [--runs N] [--checkout DIR]... [--cpu-prof DIR]"
while (($#)); do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --checkout) CHECKOUTS+=("$(cd "$2" && pwd)"); shift 2 ;;
    --cpu-prof) PROFILE_DIR="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
((${#CHECKOUTS[@]})) || CHECKOUTS=("$TCFS_ROOT")

bench_attach
WORK="$(mktemp -d /tmp/tcfs-noop.XXXXXX)"
BUCKET="$(fresh noop)"
# The bucket goes with the work dir: 100,000 files would stay in a SeaweedFS others share.
trap 'rclone purge -q "bench:$BUCKET" 2>/dev/null; rm -rf "$WORK"' EXIT
HOME_DIR="$WORK/home"
ROOT="$WORK/small"
mkdir -p "$HOME_DIR"

# Stores in the array named $1 the words that run tcfs from checkout $2 as the benchmark's device.
tcfs_from() {
  local -n words="$1"
  local profile=()
  [[ -n "$PROFILE_DIR" ]] && profile=(--cpu-prof "--cpu-prof-dir=$PROFILE_DIR")
  # shellcheck disable=SC2034 # a nameref: the caller reads the words
  words=(env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME -u XDG_CACHE_HOME
    -u TCFS_NAMESPACE -u TCFS_SYNC_ROOT -u TCFS_DEVICE_NAME
    HOME="$HOME_DIR" TCFS_S3_BUCKET="$BUCKET" TCFS_SOCKET="$HOME_DIR/tcfsd.sock"
    "$DENO" run "${TCFS_DENO_RUN_FLAGS[@]}" "${profile[@]}" "$2/main.ts")
}

log "writing $FILES text files of 100-3,000 B"
small_files "$ROOT" "$FILES"
declare -a here tcfs
tcfs_from here "$TCFS_ROOT"
timed "${here[@]}" device enroll --name noop-a --bucket "$BUCKET" --namespace default \
  --sync-root "$ROOT" --no-service --yes >/dev/null
log "first push: $(timed "${here[@]}" push "$ROOT") s"

# Every figure by "checkout step figure"; the table shows their medians.
declare -A SAMPLES=()
STEPS=("push $ROOT" "sync-status" "pull $BUCKET/default/")
for ((run = 1; run <= RUNS; run++)); do
  for step in "${STEPS[@]}"; do
    for checkout in "${CHECKOUTS[@]}"; do
      tcfs_from tcfs "$checkout"
      # shellcheck disable=SC2086 # a step is a command and its words
      read -r wall cpu rss <<<"$(measured "${tcfs[@]}" $step)"
      key="$checkout ${step%% *}"
      SAMPLES[$key wall]+="$wall "
      SAMPLES[$key cpu]+="$cpu "
      SAMPLES[$key rss]+="$(mb "$rss") "
      log "run $run: $(basename "$checkout") ${step%% *}: $wall s wall, $cpu s CPU, $(mb "$rss") MB"
    done
  done
done

printf '\n%s files, median of %s runs on %s cores (load average %s)\n\n' "$FILES" "$RUNS" \
  "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| checkout | step | wall | CPU (user + sys) | peak RSS |\n|---|---|---|---|---|\n'
for step in "${STEPS[@]}"; do
  for checkout in "${CHECKOUTS[@]}"; do
    key="$checkout ${step%% *}"
    printf '| %s | %s | %s s | %s s | %.0f MB |\n' "$(basename "$checkout")" "${step%% *}" \
      "$(med "$key wall")" "$(med "$key cpu")" "$(med "$key rss")"
  done
done

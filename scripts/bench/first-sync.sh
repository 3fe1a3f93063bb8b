#!/usr/bin/env bash
# First push and first pull of one tree (issue 13's RSS goal): device A pushes the tree into a
# sealed namespace, device B pulls it; each timed by GNU time (wall, user + system CPU, peak RSS)
# and sampled by memory_sampler.ts (peaks of V8's heap, used and reserved, and of ArrayBuffers).
# Quicker than scale.sh (no peers). Not a test.
#
#   scripts/bench/first-sync.sh [--files N | --tree DIR] [--runs N] [--checkout DIR]...
#
# --checkout runs with another checkout's code and its own Deno flags (default: this one); given
# several times, each run goes through them in turn, so that a shared machine's load falls on all
# alike. Prints a Markdown table of the medians.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FILES=30000
TREE=""
RUNS=1
CHECKOUTS=()
usage="usage: $0 [--files N | --tree DIR] [--runs N] [--checkout DIR]..."
while (($#)); do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --tree) TREE="$(cd "$2" && pwd)"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --checkout) CHECKOUTS+=("$(cd "$2" && pwd)"); shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
((${#CHECKOUTS[@]})) || CHECKOUTS=("$TCFS_ROOT")

bench_attach
WORK="$(mktemp -d /tmp/tcfs-first-sync.XXXXXX)"
BUCKETS=()
trap 'for b in "${BUCKETS[@]}"; do rclone purge -q "bench:$b" 2>/dev/null; done; rm -rf "$WORK"' EXIT
if [[ -z "$TREE" ]]; then
  TREE="$WORK/small"
  log "writing $FILES text files of 100-3,000 B"
  small_files "$TREE" "$FILES"
fi
COUNT="$(find "$TREE" -type f | wc -l)"

# Stores in the array named $1 the words that run tcfs from checkout $2, with that checkout's
# Deno flags, as device $3 of run $4, through memory_sampler.ts.
tcfs_words() {
  local -n words="$1"
  local checkout="$2" home="$WORK/$4/$3"
  mkdir -p "$home"
  # shellcheck source=../lib/deno-flags.sh
  source "$checkout/scripts/lib/deno-flags.sh"
  # shellcheck disable=SC2034 # a nameref: the caller reads the words
  words=(env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME -u XDG_CACHE_HOME
    -u TCFS_NAMESPACE -u TCFS_SYNC_ROOT -u TCFS_DEVICE_NAME
    HOME="$home" TCFS_S3_BUCKET="$BUCKET" TCFS_SOCKET="$home/tcfsd.sock"
    "$DENO" run "${TCFS_DENO_RUN_FLAGS[@]}" --config "$checkout/deno.json"
    "$TCFS_ROOT/scripts/bench/memory_sampler.ts" "$checkout")
}

declare -A SAMPLES=()
# Runs tcfs step $3 ("push DIR" or "pull PATH") with checkout $1's words (array named $2) and
# records its figures.
step() {
  local checkout="$1" name="${3%% *}" wall cpu rss
  local -n with="$2"
  # shellcheck disable=SC2086 # a step is a command and its words
  read -r wall cpu rss <<<"$(measured "${with[@]}" $3)"
  SAMPLES[$checkout $name wall]+="$wall "
  SAMPLES[$checkout $name cpu]+="$cpu "
  SAMPLES[$checkout $name rss]+="$(mb "$rss") "
  log "run $run: $(basename "$checkout") $name: $wall s wall, $cpu s CPU, $(mb "$rss") MB peak RSS;" \
    "$(grep -o 'memory peaks.*' "$WORK/errors.log" | tail -n 1)"
}

declare -a a b
for ((run = 1; run <= RUNS; run++)); do
  for checkout in "${CHECKOUTS[@]}"; do
    BUCKET="$(fresh first)"
    BUCKETS+=("$BUCKET")
    id="run$run-$(basename "$checkout")"
    tcfs_words a "$checkout" a "$id"
    tcfs_words b "$checkout" b "$id"
    timed "${a[@]}" device enroll --name a --bucket "$BUCKET" --namespace default \
      --sync-root "$TREE" --no-service --yes >/dev/null
    timed "${b[@]}" device enroll --name b --bucket "$BUCKET" --namespace default \
      --sync-root "$WORK/$id/tree" --no-service --yes >/dev/null
    timed "${a[@]}" device approve b >/dev/null
    step "$checkout" a "push $TREE"
    step "$checkout" b "pull $BUCKET/default/"
    diff -rq -x .tcfs-root "$TREE" "$WORK/$id/tree" >&2 || { log "the pulled tree differs"; exit 1; }
    rm -rf "${WORK:?}/$id"
  done
done

printf '\n%s files, median of %s runs on %s cores (load average %s)\n\n' "$COUNT" "$RUNS" \
  "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| checkout | step | wall | CPU (user + sys) | peak RSS |\n|---|---|---|---|---|\n'
for name in push pull; do
  for checkout in "${CHECKOUTS[@]}"; do
    printf '| %s | first %s | %s s | %s s | %.0f MB |\n' "$(basename "$checkout")" "$name" \
      "$(med "$checkout $name wall")" "$(med "$checkout $name cpu")" "$(med "$checkout $name rss")"
  done
done

#!/usr/bin/env bash
# A pull's A/B (issue 13): device A pushes a tree once into a sealed namespace; then, round after
# round, a new device pulls it with each checkout in turn, and rclone (--transfers 32) copies the
# same tree down, so that the machine's load and its filesystem's state fall on all alike. Prints
# each pull's wall time, user and system CPU and peak RSS, then a Markdown table of the medians.
# Not a test.
#
# On ext4 without a journal (this machine's /), creating files soon after a mass deletion costs
# every tool system time (docs/BENCHMARKS.md, "A pull's restores in batches"): --fresh-fs pulls
# into a new ext4 image mounted for the run instead (needs root and a loop device).
#
#   scripts/bench/pull-ab.sh [--tree DIR | --files N] [--rounds N] [--checkout DIR]... [--fresh-fs]
#
# Without --tree or --files: a copy of /usr/share/doc and /usr/lib/python3.11, as scale.sh's.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TREE=""
FILES=0
ROUNDS=2
FRESH_FS=0
CHECKOUTS=()
usage="usage: $0 [--tree DIR | --files N] [--rounds N] [--checkout DIR]... [--fresh-fs]"
while (($#)); do
  case "$1" in
    --tree) TREE="$(cd "$2" && pwd)"; shift 2 ;;
    --files) FILES="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --checkout) CHECKOUTS+=("$(cd "$2" && pwd)"); shift 2 ;;
    --fresh-fs) FRESH_FS=1; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
((${#CHECKOUTS[@]})) || CHECKOUTS=("$TCFS_ROOT")

bench_attach
WORK="$(mktemp -d /tmp/tcfs-pull-ab.XXXXXX)"
BUCKET="$(fresh pull-ab)"
RCLONE_BUCKET="$(fresh pull-ab-rclone)"
TARGETS="$WORK/targets"
cleanup() {
  rclone purge -q "bench:$BUCKET" 2>/dev/null || true
  rclone purge -q "bench:$RCLONE_BUCKET" 2>/dev/null || true
  bench_unmount
  rm -rf "$WORK"
}
trap cleanup EXIT
if ((FRESH_FS)); then fresh_filesystem "$TARGETS"; else mkdir -p "$TARGETS"; fi
if [[ -z "$TREE" ]]; then
  TREE="$WORK/tree"
  if ((FILES > 0)); then
    log "writing $FILES text files of 100-3,000 B"
    small_files "$TREE" "$FILES"
  else
    real_tree "$TREE" "/usr/share/doc /usr/lib/python3.11"
  fi
fi
COUNT="$(find "$TREE" -type f | wc -l)"
log "tree: $COUNT files, $(du -sm --apparent-size "$TREE" | cut -f1) MiB; pulls into $TARGETS"

# Stores in the array named $1 the words that run tcfs from checkout $2 as device $3.
tcfs_words() {
  local -n words="$1"
  local home="$WORK/homes/$3"
  mkdir -p "$home"
  # shellcheck disable=SC2034 # a nameref: the caller reads the words
  words=(env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME -u XDG_CACHE_HOME
    -u TCFS_NAMESPACE -u TCFS_SYNC_ROOT -u TCFS_DEVICE_NAME
    HOME="$home" TCFS_S3_BUCKET="$BUCKET" TCFS_SOCKET="$home/tcfsd.sock" "$2/scripts/tcfs")
}

# Enrolls device $2 (words in the array named $1) with sync root $3.
enroll() {
  local -n device="$1"
  timed "${device[@]}" device enroll --name "$2" --bucket "$BUCKET" --namespace default \
    --sync-root "$3" --no-service --yes >/dev/null
}

declare -a pusher
tcfs_words pusher "${CHECKOUTS[0]}" a
enroll pusher a "$TREE"
timed "${pusher[@]}" push "$TREE" >/dev/null
timed rclone copy --transfers 32 "$TREE" "bench:$RCLONE_BUCKET/tree" >/dev/null
log "pushed with ${CHECKOUTS[0]} and copied up with rclone"

declare -A SAMPLES=()
# Runs a pull (the words after $2) under GNU time; records it under name $1 and checks the tree
# it made ($2) against the original.
pull_step() {
  local name="$1" into="$2" wall user sys rss
  shift 2
  # rclone leaves its writes to the kernel; a pull's flush of the whole filesystem (syncfs)
  # would otherwise pay for the step before it.
  sync
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$@" >/dev/null 2>>"$WORK/errors.log" ||
    { log "failed: $*"; tail -5 "$WORK/errors.log" >&2; exit 1; }
  read -r wall user sys rss < <(tail -n 1 "$WORK/time")
  SAMPLES[$name.wall]+="$wall "
  SAMPLES[$name.user]+="$user "
  SAMPLES[$name.sys]+="$sys "
  SAMPLES[$name.rss]+="$rss "
  log "  $name: $wall s wall, $user s user, $sys s sys, $(mb "$rss") MB peak RSS"
  diff -rq "$TREE" "$into" >/dev/null || { log "the tree pulled into $into differs"; exit 1; }
}

device=0
for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round"
  for checkout in "${CHECKOUTS[@]}"; do
    device=$((device + 1))
    declare -a puller
    tcfs_words puller "$checkout" "b$device"
    enroll puller "b$device" "$TARGETS/b$device"
    timed "${pusher[@]}" device approve "b$device" >/dev/null
    pull_step "$(basename "$checkout")" "$TARGETS/b$device" "${puller[@]}" pull "$BUCKET/default/"
  done
  pull_step rclone "$TARGETS/rclone$round" \
    rclone copy --transfers 32 "bench:$RCLONE_BUCKET/tree" "$TARGETS/rclone$round"
done

echo
echo "$COUNT files, median of $ROUNDS rounds on $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg)), pulled into $( ((FRESH_FS)) && echo "a fresh ext4" || echo "$TARGETS")"
echo
echo "| puller | wall | user | sys | peak RSS |"
echo "|---|---|---|---|---|"
for checkout in "${CHECKOUTS[@]}" rclone; do
  name="$(basename "$checkout")"
  echo "| $name | $(med "$name.wall") s | $(med "$name.user") s | $(med "$name.sys") s | $(mb "$(med "$name.rss")") MB |"
done

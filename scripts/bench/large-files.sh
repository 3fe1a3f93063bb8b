#!/usr/bin/env bash
# Large files benchmark: trees of random files of a few MiB to half a GiB, pushed by one device and
# pulled by a new one (sealed namespace, as enrolled by default), against rclone (--transfers 32)
# copying the same tree up and down in the same run on the same SeaweedFS. Prints median wall
# time, CPU and peak RSS of each tcfs step, and ratios against rclone, with the issue's memory goal
# (peak RSS <= 300 MB on any tree). Not a test.
#   a) two files of 512 MiB (the shape whose chunks a push used to interleave in shared packs);
#   b) 64 files of 6 MiB (many large files saved at once).
#
#   scripts/bench/large-files.sh [--runs N] [--fresh-fs]
#
# Each run uses fresh buckets and device homes. With --fresh-fs (root only) each run's pulls, both
# tools', go to a new, empty ext4 (fresh_filesystem in lib.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=1
FRESH_FS=0
usage="usage: $0 [--runs N] [--fresh-fs]"
while (($#)); do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --fresh-fs) FRESH_FS=1; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done

bench_init

declare -A SAMPLES=()
sample() { SAMPLES[$1]+="$2 "; }

# Runs tcfs (a device's words, then its arguments) under GNU time; records its wall time, CPU and
# peak RSS under KEY.
tcfs_step() {
  local key="$1" wall cpu rss
  shift
  sync
  read -r wall cpu rss <<<"$(measured "$@")"
  sample "$key.wall" "$wall"
  sample "$key.cpu" "$cpu"
  sample "$key.rss" "$rss"
  log "  tcfs $key: ${wall} s wall, ${cpu} s CPU, $(mb "$rss") MB peak RSS"
}

rclone_step() {
  local key="$1" wall
  shift
  sync
  wall="$(timed rclone copy --transfers 32 "$@")"
  sample "$key.wall" "$wall"
  log "  rclone $key: ${wall} s"
}

# Pushes TREE from one device and pulls it on a new one, then copies it up and down with rclone.
run_tree() {
  local label="$1" tree="$2" b rb
  declare -a pusher puller
  b="$(fresh "large-$label")"
  rb="$(fresh "rlarge-$label")"
  enroll_device pusher "$label-a" "$b" "$tree"
  enroll_device puller "$label-b" "$b" "$PULLS/$label-b"
  timed "${pusher[@]}" device approve "$label-b" >/dev/null
  tcfs_step "$label.push" "${pusher[@]}" push "$tree"
  rclone_step "$label.rclone_push" "$tree" "bench:$rb/tree"
  tcfs_step "$label.pull" "${puller[@]}" pull "$b/default/"
  diff -rq -x .tcfs-root "$tree" "$PULLS/$label-b" >&2 || { log "the pulled $label tree differs"; exit 1; }
  rclone_step "$label.rclone_pull" "bench:$rb/tree" "$PULLS/$label-rclone"
  # Each run stores ~1.4 GiB per tree and tool: give it back.
  rclone purge -q "bench:$b" || log "could not remove bucket $b"
  rclone purge -q "bench:$rb" || log "could not remove bucket $rb"
}

log "writing the trees under $WORK"
mkdir -p "$WORK/two" "$WORK/many"
for i in 1 2; do head -c 512M /dev/urandom >"$WORK/two/big$i.bin"; done
for i in $(seq 1 64); do head -c 6M /dev/urandom >"$WORK/many/f$i.bin"; done
sync

for ((run = 1; run <= RUNS; run++)); do
  log "run $run/$RUNS"
  begin_run "$run"
  run_tree two "$WORK/two"
  run_tree many "$WORK/many"
  end_run
done

rss_goal() { awk -v m="$(mb "$(med "$1.rss")")" 'BEGIN { print (m <= 300) ? "✓" : "✗" }'; }
cat <<HEAD

tcfs vs rclone \`--transfers 32\` on $(nproc) cores, SeaweedFS at $TCFS_S3_ENDPOINT, median of $RUNS runs, pulled into $( ((FRESH_FS)) && echo "a fresh ext4 per run" || echo "$WORK")

| tree | step | tcfs | CPU | peak RSS (≤ 300 MB) | rclone | tcfs / rclone |
|---|---|---|---|---|---|---|
HEAD
for tree in two many; do
  name="$([[ $tree == two ]] && echo "2 × 512 MiB" || echo "64 × 6 MiB")"
  for step in push pull; do
    tw="$(med "$tree.$step.wall")" rw="$(med "$tree.rclone_$step.wall")"
    echo "| $name | $step | $tw s | $(med "$tree.$step.cpu") s | $(mb "$(med "$tree.$step.rss")") MB $(rss_goal "$tree.$step") | $rw s | $(ratio "$tw" "$rw") |"
  done
done

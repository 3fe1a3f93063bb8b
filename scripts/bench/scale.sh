#!/usr/bin/env bash
# Scale benchmark (issue 13): what tcfs costs as the tree grows, against rclone (--transfers 32)
# and restic in the same run on the same local SeaweedFS. Not a test.
#   a) a real tree (a copy of /usr/share/doc and /usr/lib/python3.11): push, and pull on a new
#      device, against rclone copy up and back and restic backup and restore;
#   b) N small text files of 100-3,000 B: first push, no-op push, sync-status, no-op pull, and
#      first pull on a new device, against rclone copy up and down;
#   c) the S3 requests of an idle poll (a no-op pull, counted by scripts/bench/request_counter.ts
#      on a third device) and of catching up with 100 changed files.
# Prints, for every tcfs run, wall time, CPU (user + sys) and CPU per file, and peak RSS; then a
# Markdown table with the issue's goals, ready for docs/BENCHMARKS.md.
#
#   scripts/bench/scale.sh [--files N] [--runs N] [--skip-real] [--skip-small] [--real-dirs "DIR..."]
#                          [--fresh-fs]
#
# Each run uses fresh buckets and device homes. Every tool reads the same copies under the work dir.
# With --fresh-fs (root only), each run's pulls, every tool's, go to a new, empty ext4
# (fresh_filesystem in lib.sh), as pull-ab.sh --fresh-fs does; otherwise to the work dir.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FILES=100000
RUNS=1
SKIP_REAL=0
SKIP_SMALL=0
REAL_DIRS="/usr/share/doc /usr/lib/python3.11"
FRESH_FS=0
# Files changed on one device before another catches up, in (c).
CHANGES=100
usage="usage: $0 [--files N] [--runs N] [--skip-real] [--skip-small] [--real-dirs \"DIR...\"] [--fresh-fs]"
while (($#)); do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --skip-real) SKIP_REAL=1; shift ;;
    --skip-small) SKIP_SMALL=1; shift ;;
    --real-dirs) REAL_DIRS="$2"; shift 2 ;;
    --fresh-fs) FRESH_FS=1; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done

bench_init

# Every figure of every run, by key ("small_push.wall"); the report shows their medians.
declare -A SAMPLES=()
# The request kinds the counter saw (GET, LIST, PUT...).
declare -A KINDS=()
sample() { SAMPLES[$1]+="$2 "; }
per_file_ms() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.3f", s * 1000 / n }'; }
# ✓ when a ≤ b, else ✗.
mark() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "✓" : "✗" }'; }

# Runs tcfs (a device's words, then its arguments) over FILES files; records and logs its wall
# time, CPU and peak RSS under KEY.
# Each step starts with nothing dirty in the page cache: a pull's flush of its filesystem
# (syncfs) would otherwise pay for what the steps before it left (restic's backup, just before
# the real tree's pull, leaves SeaweedFS's volumes dirty on the same disk), which the peers,
# leaving their writes to the kernel, never do.
tcfs_step() {
  local key="$1" files="$2" m wall cpu rss
  shift 2
  sync
  m="$(measured "$@")"
  read -r wall cpu rss <<<"$m"
  sample "$key.wall" "$wall"
  sample "$key.cpu" "$cpu"
  sample "$key.rss" "$rss"
  log "  tcfs $key: ${wall} s wall, ${cpu} s CPU ($(per_file_ms "$cpu" "$files") ms/file), $(mb "$rss") MB peak RSS"
}

peer_step() {
  local key="$1" wall
  shift
  sync
  wall="$(timed "$@")"
  sample "$key.wall" "$wall"
  log "  $key: ${wall} s"
}

# Fails unless tcfs pulled exactly the files it pushed.
same_tree() {
  diff -rq -x .tcfs-root "$1" "$2" >&2 || { log "the tree pulled into $2 differs from $1"; exit 1; }
}

# Runs a command through the counting proxy; records its requests by kind under KEY.
counted() {
  local key="$1" before kind count total=0
  shift
  before="$(wc -l <"$REQUESTS")"
  timed "$@" >/dev/null
  while read -r count kind; do
    sample "$key.$kind" "$count"
    KINDS[$kind]=1
    total=$((total + count))
  done < <(tail -n "+$((before + 1))" "$REQUESTS" | sort | uniq -c)
  sample "$key.total" "$total"
  log "  $key: $total requests"
}

start_counter() {
  REQUESTS="$WORK/requests"
  : >"$REQUESTS"
  "$DENO" run -A "$TCFS_ROOT/scripts/bench/request_counter.ts" --upstream "$TCFS_S3_ENDPOINT" \
    --log "$REQUESTS" >"$WORK/counter" 2>>"$WORK/errors.log" &
  bench_track "$!"
  local deadline=$((SECONDS + 60))
  until [[ -s "$WORK/counter" ]]; do
    ((SECONDS < deadline)) || { log "request_counter.ts did not start"; exit 1; }
    sleep 0.2
  done
  COUNTER="$(head -n 1 "$WORK/counter")"
}

prepare_real() {
  REAL="$WORK/real"
  real_tree "$REAL" "$REAL_DIRS"
  REAL_FILES="$(find "$REAL" -type f | wc -l)"
  REAL_MIB="$(du -sm --apparent-size "$REAL" | cut -f1)"
  log "real tree: $REAL_FILES files, $REAL_MIB MiB from $REAL_DIRS"
}

prepare_small() {
  SMALL="$WORK/small"
  log "writing $FILES text files of 100-3,000 B"
  small_files "$SMALL" "$FILES"
}

run_real() {
  local b rb repo
  declare -a real_a real_b
  b="$(fresh real)"
  rb="$(fresh rreal)"
  repo="s3:$TCFS_S3_ENDPOINT/$(fresh restic)"
  enroll_device real_a real-a "$b" "$REAL"
  enroll_device real_b real-b "$b" "$PULLS/real-b"
  # The namespace is end-to-end encrypted (the default, as restic's repository is): the first
  # device lets the others in.
  timed "${real_a[@]}" device approve real-b >/dev/null
  tcfs_step real_push "$REAL_FILES" "${real_a[@]}" push "$REAL"
  peer_step real_rclone_push rclone copy --transfers 32 "$REAL" "bench:$rb/real"
  timed restic -r "$repo" init >/dev/null
  peer_step real_restic_push restic -r "$repo" backup -q "$REAL"
  tcfs_step real_pull "$REAL_FILES" "${real_b[@]}" pull "$b/default/"
  same_tree "$REAL" "$PULLS/real-b"
  peer_step real_rclone_pull rclone copy --transfers 32 "bench:$rb/real" "$PULLS/rclone-real"
  peer_step real_restic_pull restic -r "$repo" restore latest --target "$PULLS/restic-real"
}

run_small() {
  local b rb i
  declare -a small_a small_b small_c
  b="$(fresh small)"
  rb="$(fresh rsmall)"
  enroll_device small_a small-a "$b" "$SMALL"
  enroll_device small_b small-b "$b" "$PULLS/small-b"
  timed "${small_a[@]}" device approve small-b >/dev/null
  tcfs_step small_push "$FILES" "${small_a[@]}" push "$SMALL"
  peer_step small_rclone_push rclone copy --transfers 32 "$SMALL" "bench:$rb/small"
  tcfs_step small_noop_push "$FILES" "${small_a[@]}" push "$SMALL"
  tcfs_step small_status "$FILES" "${small_a[@]}" sync-status
  tcfs_step small_noop_pull "$FILES" "${small_a[@]}" pull "$b/default/"
  tcfs_step small_pull "$FILES" "${small_b[@]}" pull "$b/default/"
  same_tree "$SMALL" "$PULLS/small-b"
  peer_step small_rclone_pull rclone copy --transfers 32 "bench:$rb/small" "$PULLS/rclone-small"

  # (c) A third device, up to date, talks to the store through the counter.
  enroll_device small_c small-c "$b" "$PULLS/small-c" "$COUNTER"
  timed "${small_a[@]}" device approve small-c >/dev/null
  counted first_pull "${small_c[@]}" pull "$b/default/"
  counted idle_poll "${small_c[@]}" pull "$b/default/"
  for ((i = 0; i < CHANGES; i++)); do
    printf 'changed in run %s\n' "$run" >>"$SMALL/d$((i % 40))/e$(((i / 40) % 25))/f$i.txt"
  done
  timed "${small_a[@]}" push "$SMALL" >/dev/null
  counted catch_up "${small_c[@]}" pull "$b/default/"
}

((SKIP_REAL)) || prepare_real
if ! ((SKIP_SMALL)); then
  prepare_small
  start_counter
fi
sync

for ((run = 1; run <= RUNS; run++)); do
  log "run $run/$RUNS"
  begin_run "$run"
  ((SKIP_REAL)) || run_real
  ((SKIP_SMALL)) || run_small
  end_run
done

# One Markdown row for a tcfs step: wall, CPU, CPU per file, RSS, then the given cells.
row() {
  local label="$1" key="$2" files="$3" cpu
  shift 3
  cpu="$(med "$key.cpu")"
  printf '| %s | %s s | %s s | %s ms | %s MB |' "$label" "$(med "$key.wall")" "$cpu" \
    "$(per_file_ms "$cpu" "$files")" "$(mb "$(med "$key.rss")")"
  printf ' %s |' "$@"
  printf '\n'
}
rss_goal() { echo "RSS ≤ 300 MB $(mark "$(mb "$(med "$1.rss")")" 300)"; }
cpu_goal() { echo "≤ 0.3 ms CPU/file $(mark "$(per_file_ms "$(med "$1.cpu")" "$2")" 0.3)"; }
requests() {
  local kind list=""
  for kind in $(printf '%s\n' "${!KINDS[@]}" | sort); do
    [[ -n "${SAMPLES[$1.$kind]:-}" ]] && list+="${list:+, }$kind $(med "$1.$kind" | cut -d. -f1)"
  done
  echo "$(med "$1.total" | cut -d. -f1) ($list)"
}

cat <<HEAD

tcfs vs peers on $(nproc) cores, SeaweedFS at $TCFS_S3_ENDPOINT, median of $RUNS runs, pulled into $( ((FRESH_FS)) && echo "a fresh ext4 per run" || echo "$WORK")

| workload | tcfs | CPU | CPU / file | peak RSS | rclone \`--transfers 32\` | restic | tcfs / rclone | tcfs / restic | goal |
|---|---|---|---|---|---|---|---|---|---|
HEAD
if ! ((SKIP_REAL)); then
  tw="$(med real_push.wall)" rw="$(med real_rclone_push.wall)" sw="$(med real_restic_push.wall)"
  row "real tree ($REAL_FILES files, $REAL_MIB MiB): push" real_push "$REAL_FILES" "$rw s" "$sw s" \
    "$(ratio "$tw" "$rw")" "$(ratio "$tw" "$sw")" \
    "≤ 1.0 × restic $(mark "$(ratio "$tw" "$sw")" 1.0); ≤ 0.5 × rclone $(mark "$(ratio "$tw" "$rw")" 0.5); $(rss_goal real_push)"
  tw="$(med real_pull.wall)" rw="$(med real_rclone_pull.wall)" sw="$(med real_restic_pull.wall)"
  row "the same: pull on a new device" real_pull "$REAL_FILES" "$rw s" "$sw s" \
    "$(ratio "$tw" "$rw")" "$(ratio "$tw" "$sw")" \
    "≤ rclone $(mark "$(ratio "$tw" "$rw")" 1.0); $(rss_goal real_pull)"
fi
if ! ((SKIP_SMALL)); then
  tw="$(med small_push.wall)" rw="$(med small_rclone_push.wall)"
  row "$FILES files of 100–3,000 B: first push" small_push "$FILES" "$rw s" "" "$(ratio "$tw" "$rw")" "" \
    "≤ 0.5 × rclone $(mark "$(ratio "$tw" "$rw")" 0.5); $(cpu_goal small_push "$FILES"); $(rss_goal small_push)"
  row "the same: no-op push" small_noop_push "$FILES" "" "" "" "" \
    "≤ 2 s $(mark "$(med small_noop_push.wall)" 2); $(rss_goal small_noop_push)"
  row "the same: sync-status" small_status "$FILES" "" "" "" "" \
    "≤ 2 s $(mark "$(med small_status.wall)" 2); $(rss_goal small_status)"
  row "the same: no-op pull" small_noop_pull "$FILES" "" "" "" "" "$(rss_goal small_noop_pull)"
  tw="$(med small_pull.wall)" rw="$(med small_rclone_pull.wall)"
  row "the same: first pull on a new device" small_pull "$FILES" "$rw s" "" "$(ratio "$tw" "$rw")" "" \
    "≤ rclone $(mark "$(ratio "$tw" "$rw")" 1.0); $(cpu_goal small_pull "$FILES"); $(rss_goal small_pull)"
  cat <<REQUESTS

S3 requests, counted by scripts/bench/request_counter.ts on a third device (3 devices in the namespace):

| | requests (by kind) | goal |
|---|---|---|
| first pull of $FILES files | $(requests first_pull) | |
| idle poll: a no-op pull | $(requests idle_poll) | O(devices) |
| catching up with $CHANGES changed files | $(requests catch_up) | O($CHANGES / batch) |
REQUESTS
fi

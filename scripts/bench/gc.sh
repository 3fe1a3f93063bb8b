#!/usr/bin/env bash
# gc benchmark (issue 14): what `tcfs gc` leaves in the bucket, what it costs, and what `tcfs log`
# costs, on the local SeaweedFS. Not a test.
#   a) churn: FILES files of 1-16 KiB; each round rewrites TOUCH percent of them (one in seven of
#      those is deleted instead, and comes back a later round) and pushes, for ROUNDS rounds, with
#      keep_days = 0 and keep_last = 1; then `tcfs gc --min-age 0`: bucket bytes over the live
#      data's stored size (the bytes `tcfs check --read-data` reads back), goal ≤ 1.2;
#   b) scale: SCALE_FILES small files rewritten SCALE_ROUNDS times (their product in versions) and
#      PACK_GIB GiB of packs (files of 64 MiB, half of them rewritten once, so half the bytes are
#      dead), keep_days = 0 and keep_last = 1; then `tcfs gc --min-age 0`: wall time and peak
#      RSS, goal 100,000 versions and 10 GiB ≤ 60 s and ≤ 300 MB;
#   c) `tcfs log --json` of a path with LOG_VERSIONS versions: median wall of 5 runs, goal ≤ 0.5 s.
# Every figure of a tcfs run comes from /usr/bin/time (wall, user + sys CPU, peak RSS). Ends with a
# Markdown table for docs/BENCHMARKS.md.
#
#   scripts/bench/gc.sh [--files N] [--rounds N] [--touch PERCENT] [--scale-files N]
#                       [--scale-rounds N] [--pack-gib G] [--log-versions N]
#                       [--skip-churn] [--skip-scale] [--skip-log]
#
# Defaults are the issue's figures; a quick look: --files 100 --rounds 10 --scale-files 1000
# --scale-rounds 5 --pack-gib 0.25 --log-versions 20.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FILES=1000
ROUNDS=100
TOUCH=100
SCALE_FILES=10000
SCALE_ROUNDS=10
PACK_GIB=10
LOG_VERSIONS=100
SKIP_CHURN=0
SKIP_SCALE=0
SKIP_LOG=0
usage="usage: $0 [--files N] [--rounds N] [--touch PERCENT] [--scale-files N] [--scale-rounds N] [--pack-gib G] [--log-versions N] [--skip-churn] [--skip-scale] [--skip-log]"
while (($#)); do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --touch) TOUCH="$2"; shift 2 ;;
    --scale-files) SCALE_FILES="$2"; shift 2 ;;
    --scale-rounds) SCALE_ROUNDS="$2"; shift 2 ;;
    --pack-gib) PACK_GIB="$2"; shift 2 ;;
    --log-versions) LOG_VERSIONS="$2"; shift 2 ;;
    --skip-churn) SKIP_CHURN=1; shift ;;
    --skip-scale) SKIP_SCALE=1; shift ;;
    --skip-log) SKIP_LOG=1; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done

bench_init

mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
# ✓ when a ≤ b, else ✗.
mark() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "✓" : "✗" }'; }

# Enrolls a device named NAME in a fresh bucket with sync root ROOT and its own home under $WORK,
# keeping what the environment variables after ROOT say ([history] overrides), and stores the
# words that run tcfs as it in the array named VAR; the bucket's name goes to ${VAR}_bucket.
enroll() {
  local -n words="$1"
  local -n bucket_of="${1}_bucket"
  local name="$2" root="$3" home="$WORK/homes/$2"
  shift 3
  bucket_of="$(fresh "$name")"
  mkdir -p "$home" "$root"
  words=(env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME -u XDG_CACHE_HOME
    -u TCFS_NAMESPACE -u TCFS_SYNC_ROOT -u TCFS_DEVICE_NAME
    HOME="$home" TCFS_S3_ENDPOINT="$TCFS_S3_ENDPOINT" TCFS_S3_BUCKET="$bucket_of"
    TCFS_SOCKET="$home/tcfsd.sock" "$@" "$TCFS_ROOT/scripts/tcfs")
  timed "${words[@]}" device enroll --name "$name" --bucket "$bucket_of" --namespace default \
    --sync-root "$root" --no-service --yes >/dev/null
}

# Rewrites the files of one round under ROOT: COUNT files named f<i>.txt in 40 folders, PERCENT of
# them touched (chosen by the round), one in seven of those deleted instead; 1-16 KiB of words.
churn_round() {
  python3 - "$@" <<'PY'
import os, random, sys
root, count, percent, rnd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(rnd)
letters = "abcdefghijklmnopqrstuvwxyz"
words = ["".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(400)]
for i in range(count):
    if rng.randrange(100) >= percent:
        continue
    d = os.path.join(root, f"d{i % 40}")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"f{i}.txt")
    if (i + rnd) % 7 == 0:
        if os.path.exists(path):
            os.remove(path)
        continue
    size = rng.randint(1024, 16384)
    text = f"round {rnd} file {i}\n" + " ".join(rng.choices(words, k=size // 4 + 1))
    with open(path, "w") as f:
        f.write(text[:size])
PY
}

# Bytes the bucket holds, every object counted.
bucket_bytes() { rclone size -q "bench:$1" --json | jq .bytes; }
# Deletes a bucket once its figures are taken: the scale part leaves gigabytes in a SeaweedFS
# that other work shares.
drop_bucket() { rclone purge -q "bench:$1"; }

# Runs tcfs under /usr/bin/time; sets WALL, CPU and RSS_MB, and keeps its stdout in $WORK/out.
measure_tcfs() {
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$@" >"$WORK/out" 2>>"$WORK/errors.log" ||
    { log "failed: $*"; tail -5 "$WORK/errors.log" >&2; exit 1; }
  read -r WALL CPU RSS_MB < <(tail -n 1 "$WORK/time" |
    awk '{ printf "%.2f %.2f %.0f\n", $1, $2 + $3, $4 * 1024 / 1e6 }')
}

# Fails unless the heads read back whole; prints the stored bytes they took.
checked_live_bytes() {
  "$@" check --read-data --json >"$WORK/check" 2>>"$WORK/errors.log" ||
    { log "tcfs check --read-data found problems:"; jq -c '.problems[:5]' "$WORK/check" >&2; exit 1; }
  jq .bytes_read "$WORK/check"
}

run_churn() {
  declare -a churn
  local churn_bucket
  local round push_s=0
  enroll churn churn "$WORK/churn" TCFS_HISTORY_KEEP_DAYS=0 TCFS_HISTORY_KEEP_LAST=1
  log "churn: $FILES files, $TOUCH % touched a round, $ROUNDS rounds"
  for ((round = 0; round < ROUNDS; round++)); do
    # Round 0 writes every file; later rounds touch their share.
    churn_round "$WORK/churn" "$FILES" "$((round == 0 ? 100 : TOUCH))" "$round"
    push_s="$(awk -v a="$push_s" -v b="$(timed "${churn[@]}" push "$WORK/churn")" 'BEGIN { print a + b }')"
  done
  CHURN_BEFORE="$(bucket_bytes "$churn_bucket")"
  log "  $ROUNDS pushes: $push_s s; bucket $(mib "$CHURN_BEFORE") MiB before gc"
  measure_tcfs "${churn[@]}" gc --min-age 0 --json
  CHURN_GC="$WALL s, $RSS_MB MB"
  CHURN_VERSIONS="$(jq '.versions.before' "$WORK/out")"
  log "  gc: $WALL s wall, $CPU s CPU, $RSS_MB MB peak RSS; $(jq -c '{versions, repacked, deleted: .objects.deleted}' "$WORK/out")"
  CHURN_AFTER="$(bucket_bytes "$churn_bucket")"
  CHURN_LIVE="$(checked_live_bytes "${churn[@]}")"
  CHURN_RATIO="$(ratio "$CHURN_AFTER" "$CHURN_LIVE")"
  log "  after gc: bucket $(mib "$CHURN_AFTER") MiB, live $(mib "$CHURN_LIVE") MiB stored: $CHURN_RATIO ×"
  drop_bucket "$churn_bucket"
}

run_scale() {
  declare -a scale
  local scale_bucket
  local round i big_files
  big_files="$(awk -v g="$PACK_GIB" 'BEGIN { n = int(g * 16 + 0.5); print (n < 1) ? 1 : n }')"
  enroll scale scale "$WORK/scale" TCFS_HISTORY_KEEP_DAYS=0 TCFS_HISTORY_KEEP_LAST=1
  log "scale: $SCALE_FILES files × $SCALE_ROUNDS rounds, $big_files files of 64 MiB (half rewritten)"
  mkdir -p "$WORK/scale/big"
  for ((i = 0; i < big_files; i++)); do
    head -c $((64 << 20)) /dev/urandom >"$WORK/scale/big/b$i.bin"
  done
  for ((round = 0; round < SCALE_ROUNDS; round++)); do
    churn_round "$WORK/scale" "$SCALE_FILES" 100 "$round"
    if ((round == 1)); then
      for ((i = 0; i < big_files; i += 2)); do
        head -c $((64 << 20)) /dev/urandom >"$WORK/scale/big/b$i.bin"
      done
    fi
    log "  round $round: push $(timed "${scale[@]}" push "$WORK/scale") s"
  done
  SCALE_PACKS="$(rclone size -q "bench:$scale_bucket/packs" --json | jq .bytes)"
  measure_tcfs "${scale[@]}" gc --min-age 0 --json
  SCALE_VERSIONS="$(jq '.versions.before' "$WORK/out")"
  SCALE_WALL="$WALL" SCALE_CPU="$CPU" SCALE_RSS="$RSS_MB"
  SCALE_FREED="$(jq '.objects.deletedBytes' "$WORK/out")"
  log "  gc over $SCALE_VERSIONS versions and $(mib "$SCALE_PACKS") MiB of packs: $WALL s wall, $CPU s CPU, $RSS_MB MB peak RSS"
  log "  $(jq -c '{versions, repacked, journal_objects_deleted, objects: (.objects | {objects, bytes, deleted, deletedBytes})}' "$WORK/out")"
  checked_live_bytes "${scale[@]}" >/dev/null
  drop_bucket "$scale_bucket"
}

run_log() {
  declare -a history
  local history_bucket
  local i walls="" starts=""
  enroll history history "$WORK/history" TCFS_HISTORY_KEEP_LAST=$((LOG_VERSIONS + 10))
  log "log: one path pushed $LOG_VERSIONS times"
  for ((i = 0; i < LOG_VERSIONS; i++)); do
    printf 'version %s\n' "$i" >"$WORK/history/notes.txt"
    timed "${history[@]}" push "$WORK/history" >/dev/null
  done
  for i in 1 2 3 4 5; do
    measure_tcfs "${history[@]}" version --json
    starts+="$WALL"$'\n'
    measure_tcfs "${history[@]}" log "$history_bucket/default/notes.txt" --json
    walls+="$WALL"$'\n'
  done
  LOG_ENTRIES="$(jq '.entries | length' "$WORK/out")"
  LOG_WALL="$(printf '%s' "$walls" | median)"
  LOG_RSS="$RSS_MB"
  # What any tcfs command costs before it does anything: the share of the figure that is start-up.
  LOG_START="$(printf '%s' "$starts" | median)"
  log "  tcfs log: $LOG_ENTRIES versions listed, median $LOG_WALL s wall (tcfs version: $LOG_START s), $LOG_RSS MB peak RSS"
  ((LOG_ENTRIES == LOG_VERSIONS)) || { log "tcfs log listed $LOG_ENTRIES versions, not $LOG_VERSIONS"; exit 1; }
  drop_bucket "$history_bucket"
}

((SKIP_CHURN)) || run_churn
((SKIP_SCALE)) || run_scale
((SKIP_LOG)) || run_log

cat <<HEAD

gc on $(nproc) cores, SeaweedFS at $TCFS_S3_ENDPOINT

| workload | figure | goal |
|---|---|---|
HEAD
if ! ((SKIP_CHURN)); then
  echo "| churn: $FILES files, $TOUCH % touched a round, $ROUNDS rounds ($CHURN_VERSIONS versions), keep_last = 1; \`tcfs gc --min-age 0\` ($CHURN_GC) | bucket $(mib "$CHURN_BEFORE") → $(mib "$CHURN_AFTER") MiB, live $(mib "$CHURN_LIVE") MiB stored: $CHURN_RATIO × | ≤ 1.2 × $(mark "$CHURN_RATIO" 1.2) |"
fi
if ! ((SKIP_SCALE)); then
  echo "| \`tcfs gc --min-age 0\` over $SCALE_VERSIONS versions and $(mib "$SCALE_PACKS") MiB of packs ($(mib "$SCALE_FREED") MiB freed) | $SCALE_WALL s wall, $SCALE_CPU s CPU, $SCALE_RSS MB peak RSS | ≤ 60 s for 100,000 versions and 10 GiB $(mark "$SCALE_WALL" 60); ≤ 300 MB $(mark "$SCALE_RSS" 300) |"
fi
if ! ((SKIP_LOG)); then
  echo "| \`tcfs log --json\` of a path with $LOG_ENTRIES versions, median of 5 | $LOG_WALL s wall (\`tcfs version\`: $LOG_START s), $LOG_RSS MB peak RSS | ≤ 0.5 s $(mark "$LOG_WALL" 0.5) |"
fi

#!/usr/bin/env bash
# Push/pull benchmark against a local SeaweedFS, with rclone and restic measured in the same run
# on the same server (rclone at its best setting, --transfers 32). Prints median wall times,
# ratios and tcfs's peak memory. Not a test.
#
#   scripts/bench/push-pull.sh [--runs N] [--size-mib N] [--files N]
#
# Each run uses fresh buckets, so no tool benefits from an earlier run's data.
set -euo pipefail
# shellcheck source=../lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"

RUNS=3
SIZE_MIB=1024
FILES=10000
while (($#)); do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    --files) FILES="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--size-mib N] [--files N]" >&2; exit 2 ;;
  esac
done

"$TCFS_ROOT/scripts/setup.sh"
"$TCFS_ROOT/scripts/services.sh" up >/dev/null
# shellcheck source=/dev/null
source "$TCFS_TOOLS/services.env"

WORK="$(mktemp -d /tmp/tcfs-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=SeaweedFS
export RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="$TCFS_S3_ACCESS" RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="$TCFS_S3_SECRET"
export RCLONE_CONFIG_BENCH_ENDPOINT="$TCFS_S3_ENDPOINT" RCLONE_CONFIG_BENCH_REGION=us-east-1
# rclone's S3 client can't combine a custom CA bundle with its own transport; the server is plain http.
unset AWS_CA_BUNDLE
export AWS_ACCESS_KEY_ID="$TCFS_S3_ACCESS" AWS_SECRET_ACCESS_KEY="$TCFS_S3_SECRET" RESTIC_PASSWORD=bench

log() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }
# Runs a command, prints its wall time in seconds.
timed() {
  local start end
  start="$(now)"
  "$@" >/dev/null 2>>"$WORK/errors.log" || { log "failed: $*"; tail -5 "$WORK/errors.log" >&2; exit 1; }
  end="$(now)"
  awk -v a="$end" -v b="$start" 'BEGIN { printf "%.3f", a - b }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fresh() { echo "bench-$1-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }
tcfs_as() {
  local bucket="$1"
  shift
  HOME="$WORK/home" TCFS_S3_BUCKET="$bucket" TCFS_DEVICE_NAME=bench "$TCFS_ROOT/scripts/tcfs" "$@"
}

log "preparing data in $WORK: one ${SIZE_MIB} MiB file, and ${FILES} files of 1-16 KiB"
mkdir -p "$WORK/home" "$WORK/big" "$WORK/tree"
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$WORK/big/big.bin"
python3 - "$WORK/tree" "$FILES" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    d = os.path.join(root, f"d{i % 50}", f"e{i % 13}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.dat"), "wb") as f:
        f.write(os.urandom(random.randint(1024, 16384)))
PY
sync

log "1/4 in-process pipeline (chunk + BLAKE3 + compress)"
"$DENO" run -A "$TCFS_ROOT/scripts/bench/pipeline.ts" --size-mib 512

declare -a tp tl rp rl te re tt rt st
peak_kib=0
for ((run = 1; run <= RUNS; run++)); do
  log "run $run/$RUNS"
  b="$(fresh big)"
  start="$(now)"
  /usr/bin/time -f "%M" -o "$WORK/rss" env HOME="$WORK/home" TCFS_S3_BUCKET="$b" TCFS_DEVICE_NAME=bench \
    "$TCFS_ROOT/scripts/tcfs" push "$WORK/big/big.bin" >/dev/null
  tp+=("$(awk -v a="$(now)" -v b="$start" 'BEGIN { printf "%.3f", a - b }')")
  rss="$(tail -n 1 "$WORK/rss")"
  ((rss > peak_kib)) && peak_kib="$rss"
  rm -rf "$WORK/pulled"
  tl+=("$(timed tcfs_as "$b" pull "$b/default/big.bin" "$WORK/pulled/big.bin")")
  cmp "$WORK/big/big.bin" "$WORK/pulled/big.bin"
  rb="$(fresh rclone)"
  rp+=("$(timed rclone copy --transfers 32 "$WORK/big/big.bin" "bench:$rb/")")
  rm -rf "$WORK/rpulled"
  rl+=("$(timed rclone copy --transfers 32 "bench:$rb/big.bin" "$WORK/rpulled/")")

  # A 1 MiB edit in the middle of the file.
  cp "$WORK/big/big.bin" "$WORK/big/edited.bin"
  dd if=/dev/urandom of="$WORK/big/edited.bin" bs=1M count=1 seek="$((SIZE_MIB / 2))" conv=notrunc status=none
  cp "$WORK/big/edited.bin" "$WORK/big/big.bin"
  # Both tools start with the edit on disk, not with the kernel still writing the copy back.
  sync
  te+=("$(timed tcfs_as "$b" push "$WORK/big/big.bin")")
  re+=("$(timed rclone copy --transfers 32 "$WORK/big/big.bin" "bench:$rb/")")

  tb="$(fresh tree)"
  tt+=("$(timed tcfs_as "$tb" push "$WORK/tree")")
  rt+=("$(timed rclone copy --transfers 32 "$WORK/tree" "bench:$(fresh rtree)/tree")")
  repo="s3:$TCFS_S3_ENDPOINT/$(fresh restic)"
  restic -r "$repo" init >/dev/null 2>&1
  st+=("$(timed restic -r "$repo" backup -q "$WORK/tree")")
done

m() { printf '%s\n' "$@" | median; }
TP="$(m "${tp[@]}")" TL="$(m "${tl[@]}")" RP="$(m "${rp[@]}")" RL="$(m "${rl[@]}")"
TE="$(m "${te[@]}")" RE="$(m "${re[@]}")" TT="$(m "${tt[@]}")" RT="$(m "${rt[@]}")" ST="$(m "${st[@]}")"
cat <<REPORT

tcfs vs peers on $(nproc) cores, SeaweedFS at $TCFS_S3_ENDPOINT, median of $RUNS runs
                                  tcfs      rclone    restic    tcfs/rclone   aim
push ${SIZE_MIB} MiB file            ${TP}s     ${RP}s               $(ratio "$TP" "$RP")          ≤ 1.00
pull ${SIZE_MIB} MiB file            ${TL}s     ${RL}s               $(ratio "$TL" "$RL")
re-push after 1 MiB edit        ${TE}s     ${RE}s               $(ratio "$TE" "$RE")          ≤ 0.05
${FILES} files of 1-16 KiB      ${TT}s     ${RT}s     ${ST}s    $(ratio "$TT" "$RT")          ≤ 1.00   (tcfs/restic $(ratio "$TT" "$ST"))
peak RSS of tcfs push           $((peak_kib / 1024)) MiB                                          ≤ 300 MiB
REPORT

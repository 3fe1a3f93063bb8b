#!/usr/bin/env bash
# Push/pull benchmark against a local SeaweedFS, with rclone and restic measured in the same run
# on the same server (rclone at its best setting, --transfers 32). Prints median wall times,
# ratios and tcfs's peak memory; the 1 GiB push and pull run twice per round, into a plaintext
# namespace and into an end-to-end encrypted one (enrolled device, sealed namespace), so the
# price of encryption is measured in the same run. Not a test.
#
#   scripts/bench/push-pull.sh [--runs N] [--size-mib N] [--files N]
#
# Each run uses fresh buckets, so no tool benefits from an earlier run's data.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

bench_init

tcfs_as() {
  local bucket="$1"
  shift
  HOME="$WORK/home" TCFS_S3_BUCKET="$bucket" TCFS_DEVICE_NAME=bench "$TCFS_ROOT/scripts/tcfs" "$@"
}

# A device of its own for the sealed rows: enrolling into a fresh bucket makes the fleet's keys
# and seals its empty namespace.
sealed_as() {
  local bucket="$1"
  shift
  HOME="$WORK/sealed-home" TCFS_S3_BUCKET="$bucket" TCFS_DEVICE_NAME=sealed "$TCFS_ROOT/scripts/tcfs" "$@"
}

log "preparing data in $WORK: one ${SIZE_MIB} MiB file, and ${FILES} files of 1-16 KiB"
mkdir -p "$WORK/home" "$WORK/sealed-home" "$WORK/big" "$WORK/tree"
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

declare -a tp tl ep el rp rl te re tt rt st
peak_kib=0
for ((run = 1; run <= RUNS; run++)); do
  log "run $run/$RUNS"
  b="$(fresh big)"
  m="$(measured env HOME="$WORK/home" TCFS_S3_BUCKET="$b" TCFS_DEVICE_NAME=bench \
    "$TCFS_ROOT/scripts/tcfs" push "$WORK/big/big.bin")"
  read -r wall _ rss <<<"$m"
  tp+=("$wall")
  ((rss > peak_kib)) && peak_kib="$rss"
  rm -rf "$WORK/pulled"
  tl+=("$(timed tcfs_as "$b" pull "$b/default/big.bin" "$WORK/pulled/big.bin")")
  cmp "$WORK/big/big.bin" "$WORK/pulled/big.bin"
  sb="$(fresh sealed)"
  sealed_as "$sb" device enroll --no-service --no-recovery --yes --json >/dev/null
  ep+=("$(timed sealed_as "$sb" push "$WORK/big/big.bin")")
  rm -rf "$WORK/pulled"
  el+=("$(timed sealed_as "$sb" pull "$sb/default/big.bin" "$WORK/pulled/big.bin")")
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
EP="$(m "${ep[@]}")" EL="$(m "${el[@]}")"
TE="$(m "${te[@]}")" RE="$(m "${re[@]}")" TT="$(m "${tt[@]}")" RT="$(m "${rt[@]}")" ST="$(m "${st[@]}")"
cat <<REPORT

tcfs vs peers on $(nproc) cores, SeaweedFS at $TCFS_S3_ENDPOINT, median of $RUNS runs
                                  tcfs      rclone    restic    tcfs/rclone   aim
push ${SIZE_MIB} MiB file            ${TP}s     ${RP}s               $(ratio "$TP" "$RP")          ≤ 1.00
pull ${SIZE_MIB} MiB file            ${TL}s     ${RL}s               $(ratio "$TL" "$RL")
push ${SIZE_MIB} MiB, encrypted      ${EP}s     ${RP}s               $(ratio "$EP" "$RP")          sealed/plain $(ratio "$EP" "$TP") ≤ 1.15
pull ${SIZE_MIB} MiB, encrypted      ${EL}s     ${RL}s               $(ratio "$EL" "$RL")          sealed/plain $(ratio "$EL" "$TL") ≤ 1.15
re-push after 1 MiB edit        ${TE}s     ${RE}s               $(ratio "$TE" "$RE")          ≤ 0.05
${FILES} files of 1-16 KiB      ${TT}s     ${RT}s     ${ST}s    $(ratio "$TT" "$RT")          ≤ 1.00   (tcfs/restic $(ratio "$TT" "$ST"))
peak RSS of tcfs push           $((peak_kib / 1024)) MiB                                          ≤ 300 MiB
REPORT

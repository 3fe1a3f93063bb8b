#!/usr/bin/env bash
# `tcfs mount` against `rclone mount --vfs-cache-mode full` on the same SeaweedFS, same run: a
# stat walk (`ls -lR`) of a tree, the first byte of a large file, a sequential read of it cold
# (empty caches) and warm: read before, so tcfs's chunk cache and rclone's VFS cache hold it and
# their files are in the OS page cache, but the mounted file's own pages are not (dropped from
# the same mount; or a new mount), and once more with the whole page cache dropped (from disk),
# `tcfs pull` of the same file for the cold-read ratio, the bytes 1 MiB reads at random
# offsets fetch (mean of 16), and the mount's peak RSS. With --rss-gib N, also the mount's peak RSS and
# throughput reading an N GiB file cold and warm (tcfs alone; needs about 2 x N GiB of free disk:
# the store's copy and the chunk cache). Needs root (drop_caches) and FUSE. Not a test.
#
#   scripts/bench/mount.sh [--size-mib N] [--files N] [--rss-gib N]
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mount_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mount_lib.sh"

SIZE_MIB=1024
FILES=10000
RSS_GIB=0
while (($#)); do
  case "$1" in
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    --files) FILES="$2"; shift 2 ;;
    --rss-gib) RSS_GIB="$2"; shift 2 ;;
    *) echo "usage: $0 [--size-mib N] [--files N] [--rss-gib N]" >&2; exit 2 ;;
  esac
done

bench_init
BUCKET="$(fresh mount)"
RBUCKET="$(fresh rclone-mount)"
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# Drops one file's pages from the page cache (GNU dd's nocache), here a mounted file's.
drop_file() { dd if="$1" iflag=nocache count=0 status=none; }

log "preparing ${FILES} small files and one ${SIZE_MIB} MiB file in $WORK"
mkdir -p "$WORK/home/.config/tcfs" "$WORK/data/big" "$WORK/tmnt" "$WORK/rmnt"
# The chunk cache holds the whole of the large file, so the warm read reads no store.
printf '[mount]\ncache_size = "%dGiB"\n' "$((RSS_GIB + 2))" >"$WORK/home/.config/tcfs/config.toml"
small_files "$WORK/data/tree" "$FILES"
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$WORK/data/big/big.bin"
tcfs_as push "$WORK/data" --json >/dev/null
rclone copy --transfers 32 "$WORK/data" "bench:$RBUCKET/data"
tcfs_as pull "$BUCKET/default/data/big/big.bin" "$WORK/pulled.bin" >/dev/null
drop_caches
pull_s="$(timed tcfs_as pull "$BUCKET/default/data/big/big.bin" "$WORK/pulled2.bin")"
rm -f "$WORK/pulled.bin" "$WORK/pulled2.bin"

start_tcfs() {
  tcfs_as mount "$WORK/tmnt" --read-only --json >"$WORK/tcfs-mount.out" 2>>"$WORK/errors.log" &
  TCFS_PID=$!
  bench_track "$TCFS_PID"
  wait_mounted "$WORK/tmnt"
}
# The tcfs mount's peak RSS so far, in KiB.
tcfs_peak_kib() {
  awk '/VmHWM/ { print $2 }' "/proc/$(pgrep -P "$TCFS_PID" deno || echo "$TCFS_PID")/status" 2>/dev/null || echo 0
}
# The tcfs mount's CPU time so far (user + system), in seconds.
tcfs_cpu_s() {
  local pid
  pid="$(pgrep -P "$TCFS_PID" deno || echo "$TCFS_PID")"
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$pid/stat"
}
# CPU seconds the tcfs mount spent since $1 (a tcfs_cpu_s figure).
tcfs_cpu_since() { awk -v a="$1" -v b="$(tcfs_cpu_s)" 'BEGIN { printf "%.2f", b - a }'; }
start_mounts() {
  rm -rf "$WORK/cache" "$WORK/rcache"
  mount_both
}
# Mounts both on the caches there are.
mount_both() {
  start_tcfs
  rclone mount "bench:$RBUCKET" "$WORK/rmnt" --vfs-cache-mode full --cache-dir "$WORK/rcache" \
    --read-only 2>>"$WORK/errors.log" &
  RCLONE_PID=$!
  bench_track "$RCLONE_PID"
  wait_mounted "$WORK/rmnt"
}
stop_mounts() {
  tcfs_as unmount --lazy "$WORK/tmnt" >/dev/null
  fusermount3 -u -z "$WORK/rmnt" 2>/dev/null || umount -l "$WORK/rmnt"
  wait "$TCFS_PID" "$RCLONE_PID" 2>/dev/null || true
}
first_byte() { head -c 1 "$1" >/dev/null; }
read_all() { cat "$1" >/dev/null; }

start_mounts
drop_caches
t_ls="$(timed ls -lR "$WORK/tmnt/data/tree")"
r_ls="$(timed ls -lR "$WORK/rmnt/data/tree")"
drop_caches
t_fb="$(timed first_byte "$WORK/tmnt/data/big/big.bin")"
r_fb="$(timed first_byte "$WORK/rmnt/data/big/big.bin")"
stop_mounts

start_mounts
drop_caches
t_cold="$(timed read_all "$WORK/tmnt/data/big/big.bin")"
r_cold="$(timed read_all "$WORK/rmnt/data/big/big.bin")"
tcfs_rss_kib="$(tcfs_peak_kib)"
drop_file "$WORK/tmnt/data/big/big.bin"
drop_file "$WORK/rmnt/data/big/big.bin"
cpu="$(tcfs_cpu_s)"
t_warm="$(timed read_all "$WORK/tmnt/data/big/big.bin")"
t_warm_cpu="$(tcfs_cpu_since "$cpu")"
r_warm="$(timed read_all "$WORK/rmnt/data/big/big.bin")"
stop_mounts
mount_both
cpu="$(tcfs_cpu_s)"
t_remount="$(timed read_all "$WORK/tmnt/data/big/big.bin")"
t_remount_cpu="$(tcfs_cpu_since "$cpu")"
r_remount="$(timed read_all "$WORK/rmnt/data/big/big.bin")"
drop_caches
t_disk="$(timed read_all "$WORK/tmnt/data/big/big.bin")"
r_disk="$(timed read_all "$WORK/rmnt/data/big/big.bin")"
stop_mounts

# 1 MiB reads at random offsets, on a fresh cache: what the mount reports it fetched, per read
# (16 reads far apart: one read's figure depends on where the chunk edges fall around it).
RANDOM_READS=16
start_mounts
python3 - "$WORK/tmnt/data/big/big.bin" "$RANDOM_READS" <<'PY'
import os, random, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
slot = size // int(sys.argv[2])
for i in range(int(sys.argv[2])):
    os.pread(fd, 1 << 20, i * slot + random.randrange(0, slot - (1 << 20)))
os.close(fd)
PY
stop_mounts
random_fetched="$(tail -n 1 "$WORK/tcfs-mount.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_downloaded"] // int(sys.argv[1]))' "$RANDOM_READS")"

# Peak RSS of a mount reading a large file: a mount of its own for each read, so its peak is
# the read's (and the mount's start); warm reads the chunk cache the cold read filled.
if ((RSS_GIB > 0)); then
  log "preparing a ${RSS_GIB} GiB file"
  mkdir -p "$WORK/large"
  # Pseudo-random bytes (AES-CTR of zeros): incompressible, no repeated chunks, and fast to make.
  # (Not a pipe: openssl's SIGPIPE once head has enough would fail it under pipefail.)
  head -c "$((RSS_GIB << 30))" >"$WORK/large/large.bin" \
    < <(openssl enc -aes-128-ctr -pass pass:tcfs-bench -nosalt -pbkdf2 </dev/zero 2>/dev/null)
  tcfs_as push "$WORK/large" --json >/dev/null
  rm -f "$WORK/large/large.bin"
  rm -rf "$WORK/cache"
  # Sets large_s (wall), large_kib (peak RSS) and large_cpu (the mount's user + system seconds).
  large_read() {
    start_tcfs
    drop_caches
    large_s="$(timed read_all "$WORK/tmnt/large/large.bin")"
    large_kib="$(tcfs_peak_kib)"
    large_cpu="$(ps -o times= -p "$(pgrep -P "$TCFS_PID" deno || echo "$TCFS_PID")" | tr -d ' ')"
    tcfs_as unmount --lazy "$WORK/tmnt" >/dev/null
    wait "$TCFS_PID" 2>/dev/null || true
  }
  large_read
  large_cold_s="$large_s" large_cold_kib="$large_kib" large_cold_cpu="$large_cpu"
  large_read
  large_warm_s="$large_s" large_warm_kib="$large_kib" large_warm_cpu="$large_cpu"
fi

mib_s() { awk -v s="$1" -v m="$SIZE_MIB" 'BEGIN { printf "%.0f", m / s }'; }
printf '\n%-44s %10s %10s %8s\n' "tcfs mount vs rclone mount --vfs-cache-mode full" tcfs rclone ratio
printf '%-44s %9ss %9ss %8s\n' "ls -lR of ${FILES} files" "$t_ls" "$r_ls" "$(ratio "$t_ls" "$r_ls")"
printf '%-44s %9ss %9ss %8s\n' "first byte of the ${SIZE_MIB} MiB file" "$t_fb" "$r_fb" "$(ratio "$t_fb" "$r_fb")"
printf '%-44s %7sMB/s %7sMB/s %8s\n' "sequential read, cold" "$(mib_s "$t_cold")" "$(mib_s "$r_cold")" "$(ratio "$r_cold" "$t_cold")"
printf '%-44s %7sMB/s %7sMB/s %8s  (tcfs mount CPU %s s)\n' "sequential read, warm (same mount)" "$(mib_s "$t_warm")" "$(mib_s "$r_warm")" "$(ratio "$r_warm" "$t_warm")" "$t_warm_cpu"
printf '%-44s %7sMB/s %7sMB/s %8s  (tcfs mount CPU %s s)\n' "sequential read, warm (new mount)" "$(mib_s "$t_remount")" "$(mib_s "$r_remount")" "$(ratio "$r_remount" "$t_remount")" "$t_remount_cpu"
printf '%-44s %7sMB/s %7sMB/s %8s\n' "sequential read, caches on disk only" "$(mib_s "$t_disk")" "$(mib_s "$r_disk")" "$(ratio "$r_disk" "$t_disk")"
printf '%-44s %7sMB/s  (cold read / pull: %s)\n' "tcfs pull of the same file" "$(mib_s "$pull_s")" "$(ratio "$pull_s" "$t_cold")"
printf '%-44s %10s\n' "bytes fetched per random 1 MiB read (mean of ${RANDOM_READS})" "$random_fetched"
printf '%-44s %8sMB\n' "tcfs mount peak RSS (cold read)" "$((tcfs_rss_kib / 1024))"
if ((RSS_GIB > 0)); then
  gib_mb_s() { awk -v s="$1" -v g="$RSS_GIB" 'BEGIN { printf "%.0f", g * 1024 / s }'; }
  printf '%-44s %8sMB  (%s MB/s, %s s CPU)\n' "peak RSS reading ${RSS_GIB} GiB, cold" \
    "$((large_cold_kib / 1024))" "$(gib_mb_s "$large_cold_s")" "$large_cold_cpu"
  printf '%-44s %8sMB  (%s MB/s, %s s CPU)\n' "peak RSS reading ${RSS_GIB} GiB, warm" \
    "$((large_warm_kib / 1024))" "$(gib_mb_s "$large_warm_s")" "$large_warm_cpu"
fi
# Leave no N GiB behind in the shared store.
if ((RSS_GIB > 0)); then rclone purge "bench:$BUCKET" 2>>"$WORK/errors.log"; fi

#!/usr/bin/env bash
# Writing through a mount, and a mount's idle cost, on a namespace that already holds many files:
# `cp -r` of small files into `tcfs mount` (each close returns once its version is in the store),
# into `rclone mount --vfs-cache-mode off` (each close returns once uploaded) and into
# `rclone mount --vfs-cache-mode full` (close returns at once, the upload follows in the
# background, so its time is not the same job); then the CPU an idle tcfs mount uses in 20 s while
# polling every second. Needs FUSE. Not a test.
#
#   scripts/bench/mount-writes.sh [--files N] [--writes N]
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mount_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mount_lib.sh"

FILES=20000
WRITES=200
while (($#)); do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --writes) WRITES="$2"; shift 2 ;;
    *) echo "usage: $0 [--files N] [--writes N]" >&2; exit 2 ;;
  esac
done

bench_init
BUCKET="$(fresh mount-writes)"
RBUCKET="$(fresh rclone-mount-writes)"
# User + system seconds process $1 has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

log "preparing ${FILES} files in the store and ${WRITES} to write"
mkdir -p "$WORK/home" "$WORK/mnt" "$WORK/roff" "$WORK/rfull"
small_files "$WORK/data/tree" "$FILES"
small_files "$WORK/new" "$WRITES"
tcfs_as push "$WORK/data" --json >/dev/null
rclone copy --transfers 32 "$WORK/data" "bench:$RBUCKET/data"

TCFS_POLL_INTERVAL_SECS=1 tcfs_as mount "$WORK/mnt" --json >/dev/null 2>>"$WORK/errors.log" &
bench_track $!
wait_mounted "$WORK/mnt"
t_cp="$(timed cp -r "$WORK/new" "$WORK/mnt/data/new")"
pid="$(pgrep -f "main.ts mount $WORK/mnt" | head -n 1)"
sleep 2 # the write's last refresh
cpu_before="$(cpu_s "$pid")"
sleep 20
idle_cpu="$(awk -v a="$(cpu_s "$pid")" -v b="$cpu_before" 'BEGIN { printf "%.2f", a - b }')"
idle_kib="$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")"
tcfs_as unmount "$WORK/mnt" >/dev/null

rclone_cp() {
  local mode="$1" dir="$2"
  rclone mount "bench:$RBUCKET" "$dir" --vfs-cache-mode "$mode" --cache-dir "$WORK/rcache-$mode" \
    2>>"$WORK/errors.log" &
  bench_track $!
  wait_mounted "$dir"
  timed cp -r "$WORK/new" "$dir/data/new-$mode"
  fusermount3 -u -z "$dir" 2>/dev/null || umount -l "$dir"
}
r_off="$(rclone_cp off "$WORK/roff")"
r_full="$(rclone_cp full "$WORK/rfull")"

printf '\n%-58s %10s\n' "cp -r of ${WRITES} small files into a mount of ${FILES}" "seconds"
printf '%-58s %9ss  (%.1f ms a file)\n' "tcfs mount (in the store at close)" "$t_cp" "$(awk -v s="$t_cp" -v n="$WRITES" 'BEGIN { print s * 1000 / n }')"
printf '%-58s %9ss  (tcfs / rclone: %s)\n' "rclone mount --vfs-cache-mode off (uploaded at close)" "$r_off" "$(ratio "$t_cp" "$r_off")"
printf '%-58s %9ss\n' "rclone mount --vfs-cache-mode full (uploads later)" "$r_full"
printf '%-58s %9ss\n' "idle tcfs mount polling every second: CPU in 20 s" "$idle_cpu"
printf '%-58s %8sMB\n' "tcfs mount peak RSS" "$(mb "$idle_kib")"

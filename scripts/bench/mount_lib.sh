# shellcheck shell=bash
# Shared by the mount benchmarks (mount.sh, mount-writes.sh), after lib.sh and bench_init: the
# benchmark's tcfs device, and waiting for a mount.

# Runs tcfs as the benchmark's device: home, cache and socket under $WORK, bucket $BUCKET.
tcfs_as() {
  HOME="$WORK/home" XDG_CACHE_HOME="$WORK/cache" TCFS_S3_BUCKET="$BUCKET" TCFS_DEVICE_NAME=bench \
    TCFS_SOCKET="$WORK/bench.sock" "$TCFS_ROOT/scripts/tcfs" "$@"
}

# Waits until $1 is a mount point (30 s at most).
wait_mounted() {
  local i
  for ((i = 0; i < 300; i++)); do mountpoint -q "$1" && return 0; sleep 0.1; done
  log "$1 did not mount"; exit 1
}

# shellcheck shell=bash
# Shared by the shell benchmarks in scripts/bench/: services, a work dir, the peers' settings,
# timing and medians. Source it, then call bench_init.
# shellcheck source=../lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"

# Processes started by a benchmark, stopped when it exits (bench_track).
BENCH_PIDS=()
# Filesystems mounted by fresh_filesystem, unmounted when it exits (bench_unmount).
BENCH_MOUNTS=()

# Starts the services, makes $WORK (removed on exit) and points rclone's remote `bench:` and
# restic at the local SeaweedFS.
bench_init() {
  "$TCFS_ROOT/scripts/setup.sh"
  "$TCFS_ROOT/scripts/services.sh" up >/dev/null
  # shellcheck source=/dev/null
  source "$TCFS_TOOLS/services.env"
  WORK="$(mktemp -d /tmp/tcfs-bench.XXXXXX)"
  trap bench_cleanup EXIT
  bench_peers
}

# Points rclone's remote `bench:` and restic at the store in services.env (sourced already).
bench_peers() {
  export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=SeaweedFS
  export RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="$TCFS_S3_ACCESS" RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="$TCFS_S3_SECRET"
  export RCLONE_CONFIG_BENCH_ENDPOINT="$TCFS_S3_ENDPOINT" RCLONE_CONFIG_BENCH_REGION=us-east-1
  # rclone's S3 client can't combine a custom CA bundle with its own transport; the server is plain http.
  unset AWS_CA_BUNDLE
  export AWS_ACCESS_KEY_ID="$TCFS_S3_ACCESS" AWS_SECRET_ACCESS_KEY="$TCFS_S3_SECRET" RESTIC_PASSWORD=bench
}

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  bench_unmount
  rm -rf "$WORK"
}

# Mounts a new, empty ext4 on DIR (created), backed by a sparse image beside it. Pulls timed
# there meet a filesystem like a user's disk rather than one that earlier rounds' mass deletions
# left behind: this machine's root is ext4 without a journal, where every tool's pull slowed
# round after round (docs/BENCHMARKS.md, "A pull's restores in batches"). Needs root.
fresh_filesystem() {
  local dir="$1"
  mkdir -p "$dir"
  # Large enough that later rounds do not pull into a nearly full filesystem (4 GiB was 90 %
  # full after eight rounds of the real tree); sparse, so it costs what is written.
  truncate -s 32G "$dir.img"
  # One inode per 4 KiB: 100,000 small files pulled three times outnumber the default.
  mkfs.ext4 -q -F -i 4096 "$dir.img"
  mount -o loop "$dir.img" "$dir"
  BENCH_MOUNTS+=("$dir")
}

# Unmounts what fresh_filesystem mounted, and removes the images.
bench_unmount() {
  local dir
  for dir in "${BENCH_MOUNTS[@]}"; do
    if mountpoint -q "$dir"; then umount "$dir"; fi
    rm -f "$dir.img"
  done
  BENCH_MOUNTS=()
}

# For a benchmark on the services already up (bench_init starts them): stops unless they are up,
# then loads their env and points the peers at them.
bench_attach() {
  "$TCFS_ROOT/scripts/services.sh" status >/dev/null ||
    { log "the services are down: scripts/services.sh up"; exit 1; }
  # shellcheck source=/dev/null
  source "$TCFS_TOOLS/services.env"
  bench_peers
}

# The median of the figures a benchmark recorded under key $1 of its associative array SAMPLES
# (space-separated).
med() {
  local -a values
  read -ra values <<<"${SAMPLES[$1]}"
  printf '%s\n' "${values[@]}" | median
}
# GNU time's KiB as MB.
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }'; }

# Stops process `pid` when the benchmark exits.
bench_track() { BENCH_PIDS+=("$1"); }

log() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }
# Runs a command or function, prints its wall time in seconds.
timed() {
  local start end
  start="$(now)"
  "$@" >/dev/null 2>>"$WORK/errors.log" || { log "failed: $*"; tail -5 "$WORK/errors.log" >&2; exit 1; }
  end="$(now)"
  awk -v a="$end" -v b="$start" 'BEGIN { printf "%.3f", a - b }'
}
# Runs a program (not a function: GNU time execs it) and prints "WALL_S CPU_S RSS_KIB": wall
# time, user + system CPU of it and its children, and the peak RSS of the largest of them.
measured() {
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$@" >/dev/null 2>>"$WORK/errors.log" ||
    { log "failed: $*"; tail -5 "$WORK/errors.log" >&2; exit 1; }
  tail -n 1 "$WORK/time" | awk '{ printf "%.2f %.2f %d", $1, $2 + $3, $4 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# A bucket name no earlier run used.
fresh() { echo "bench-$1-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }
# Writes COUNT text files of 100-3,000 B of random words under ROOT, in 1,000 folders.
small_files() {
  python3 - "$1" "$2" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
letters = "abcdefghijklmnopqrstuvwxyz"
words = ["".join(random.choices(letters, k=random.randint(2, 9))) for _ in range(400)]
for i in range(count):
    d = os.path.join(root, f"d{i % 40}", f"e{(i // 40) % 25}")
    os.makedirs(d, exist_ok=True)
    size = random.randint(100, 3000)
    text = " ".join(random.choices(words, k=size // 4 + 1))
    with open(os.path.join(d, f"f{i}.txt"), "w") as f:
        f.write(text[:size])
PY
}

# Copies each folder of DIRS (a space-separated list) into DEST, as every tool can read it: links
# dropped (the tools read them three different ways; rclone skips them), then the folders left
# empty (tcfs syncs files, not empty folders).
real_tree() {
  local dest="$1" dir
  mkdir -p "$dest"
  for dir in $2; do cp -a "$dir" "$dest/"; done
  find "$dest" -type l -delete
  find "$dest" -type d -empty -delete
}

# Enrolls a device named NAME in BUCKET with sync root ROOT, its own home under $RUN_DIR/homes, and
# stores the words that run tcfs as it in the array named VAR. ENDPOINT defaults to the store's.
enroll_device() {
  local -n enrolled="$1"
  local name="$2" bucket="$3" root="$4" endpoint="${5:-$TCFS_S3_ENDPOINT}" home="$RUN_DIR/homes/$2"
  mkdir -p "$home" "$root"
  enrolled=(env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME -u XDG_CACHE_HOME
    -u TCFS_NAMESPACE -u TCFS_SYNC_ROOT -u TCFS_DEVICE_NAME
    HOME="$home" TCFS_S3_ENDPOINT="$endpoint" TCFS_S3_BUCKET="$bucket" TCFS_SOCKET="$home/tcfsd.sock"
    "$TCFS_ROOT/scripts/tcfs")
  timed "${enrolled[@]}" device enroll --name "$name" --bucket "$bucket" --namespace default \
    --sync-root "$root" --no-service --yes >/dev/null
}

# Starts run N of a benchmark: $RUN_DIR, and $PULLS, where the run's pulls go: a new, empty ext4
# when FRESH_FS is 1 (fresh_filesystem), else a folder of the work dir.
begin_run() {
  RUN_DIR="$WORK/run$1"
  PULLS="$RUN_DIR/pulls"
  if ((FRESH_FS)); then fresh_filesystem "$PULLS"; else mkdir -p "$PULLS"; fi
}

# Ends the run begin_run started: unmounts its filesystem and removes its files.
end_run() {
  bench_unmount
  rm -rf "$RUN_DIR"
}

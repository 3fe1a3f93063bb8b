#!/usr/bin/env bash
# tcfs's main job on its embedded default, with no server: two device homes share a local
# store directory; one pushes a sample folder, the other pulls it.
set -euo pipefail
# shellcheck source=lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Installing what the demo needs (Deno into .tools/, once)"
"$TCFS_ROOT/scripts/setup.sh" --deno-only

DEMO="$(mktemp -d /tmp/tcfs-demo.XXXXXX)"
trap 'rm -rf "$DEMO"' EXIT
STORE="$DEMO/shared-store"
laptop() { HOME="$DEMO/laptop" TCFS_DEVICE_NAME=laptop TCFS_S3_ENDPOINT="file://$STORE" "$TCFS_ROOT/scripts/tcfs" "$@"; }
labbox() { HOME="$DEMO/labbox" TCFS_DEVICE_NAME=labbox TCFS_S3_ENDPOINT="file://$STORE" "$TCFS_ROOT/scripts/tcfs" "$@"; }

say "Two devices, 'laptop' and 'labbox', each with its own HOME under $DEMO, sharing the store $STORE"
mkdir -p "$DEMO/laptop/papers/figures" "$DEMO/labbox"
printf 'Results are in.\n' >"$DEMO/laptop/papers/notes.md"
head -c 3000000 /dev/urandom >"$DEMO/laptop/papers/figures/plot.bin"
printf '#!/bin/sh\necho analysing\n' >"$DEMO/laptop/papers/run.sh"
chmod +x "$DEMO/laptop/papers/run.sh"
ln -s notes.md "$DEMO/laptop/papers/README"
find "$DEMO/laptop/papers" | sed "s|$DEMO/||"

say "laptop: tcfs device enroll   (the fleet's first device: key epoch 1; the empty namespace is encrypted end to end)"
# The recovery passphrase would be asked on a terminal; without one, a recovery key file is written.
TCFS_RECOVERY_PASSPHRASE="correct horse battery staple" laptop device enroll --no-service --yes
say "labbox: tcfs device enroll   (pending: it reads nothing until an approved device lets it in)"
labbox device enroll --no-service --yes
say "laptop: tcfs device approve labbox"
laptop device approve labbox

say "laptop: tcfs push ~/papers   (chunked with FastCDC, BLAKE3-addressed, zstd where it pays)"
laptop push "$DEMO/laptop/papers"

say "laptop: tcfs ls   (what the store now holds)"
laptop ls
say "The store itself sees sealed packs and journal segments: no name, no content"
find "$STORE" -type f | sed "s|$STORE/||" | sort | head -n 12
if grep -rlF -e notes.md -e "Results are in" "$STORE"; then
  echo "found a name or content in the store!" >&2
  exit 1
fi
echo "grep finds neither 'notes.md' nor 'Results are in' in any object"

say "labbox: tcfs pull tcfs/default/papers ~/papers   (every chunk and file verified before it lands)"
labbox pull tcfs/default/papers "$DEMO/labbox/papers"
diff -r "$DEMO/laptop/papers" "$DEMO/labbox/papers" && echo "labbox's copy is identical to laptop's (bytes, links)"

say "labbox: tcfs sync-status ~/papers"
labbox sync-status "$DEMO/labbox/papers"

say "laptop edits notes.md and pushes again: only what changed moves"
printf 'Results are in. Revised.\n' >"$DEMO/laptop/papers/notes.md"
laptop push "$DEMO/laptop/papers"
say "labbox: tcfs sync-status ~/papers   (now remote-newer), then pull"
labbox sync-status "$DEMO/labbox/papers"
labbox pull tcfs/default/papers "$DEMO/labbox/papers"
cat "$DEMO/labbox/papers/notes.md"

say "Undo: tcfs log lists every version of notes.md; tcfs restore --to writes the first one into labbox's copy"
labbox log tcfs/default/papers/notes.md
first=$(labbox log tcfs/default/papers/notes.md --json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | tail -n 1)
labbox restore tcfs/default/papers/notes.md --version "$first" --to "$DEMO/labbox/papers/notes.md"
cat "$DEMO/labbox/papers/notes.md"

say "laptop: tcfs store encrypt   (namespace 'live', for the daemons below)"
TCFS_NAMESPACE=live laptop store encrypt

say "Live sync: each device runs 'tcfs daemon' on its ~/Sync (namespace 'live'), polling the store every second"
# The daemons' settings, as the env file or config.toml would give them.
daemon_env() { # device
  echo "HOME=$DEMO/$1" "TCFS_DEVICE_NAME=$1" "TCFS_S3_ENDPOINT=file://$STORE" "TCFS_NAMESPACE=live" \
    "TCFS_SYNC_ROOT=$DEMO/$1/Sync" "TCFS_SOCKET=$DEMO/$1/tcfsd.sock" "TCFS_METRICS_ADDR=127.0.0.1:0" \
    "TCFS_POLL_INTERVAL_SECS=1"
}
live() { # device command...
  local device="$1"
  shift
  # shellcheck disable=SC2046 # one word per variable, by design
  env $(daemon_env "$device") "$TCFS_ROOT/scripts/tcfs" "$@"
}
DAEMON_PIDS=()
trap 'kill "${DAEMON_PIDS[@]}" 2>/dev/null || true; wait; rm -rf "$DEMO"' EXIT
for device in laptop labbox; do
  mkdir -p "$DEMO/$device/Sync"
  # exec all the way down, so the recorded pid is the daemon's own and signals reach it.
  # shellcheck disable=SC2046 # one word per variable, by design
  (exec env $(daemon_env "$device") "$TCFS_ROOT/scripts/tcfs" daemon --log-level warning \
    2>"$DEMO/$device-daemon.log" >/dev/null) &
  DAEMON_PIDS+=("$!")
done
for device in laptop labbox; do
  for _ in $(seq 100); do live "$device" status >/dev/null 2>&1 && break; sleep 0.2; done
done
live labbox status

say "laptop writes ~/Sync/hello.txt; labbox's daemon pulls it without anyone running a command"
printf 'Written on the laptop at %s\n' "$(date +%T)" >"$DEMO/laptop/Sync/hello.txt"
started=$SECONDS
until [[ -f "$DEMO/labbox/Sync/hello.txt" ]] || ((SECONDS - started > 30)); do sleep 0.1; done
echo "labbox's ~/Sync/hello.txt after $((SECONDS - started)) s:"
cat "$DEMO/labbox/Sync/hello.txt"

say "Stopping both daemons (SIGTERM: they finish what is in flight and exit 0)"
kill -TERM "${DAEMON_PIDS[@]}"
wait "${DAEMON_PIDS[@]}"
DAEMON_PIDS=()
echo "both stopped"

say "Done. Everything above ran against a directory; point TCFS_S3_ENDPOINT at SeaweedFS for a real fleet."

#!/usr/bin/env bash
# Propagation latency between two real daemons on the local SeaweedFS: from a write in device
# A's sync root to the complete file in B's, over 100 small files, once with NATS and once by
# polling only. Prints p50/p90/p99/max per mode. Not a test. For comparison: Syncthing waits
# 10 s (fsWatcherDelayS) before it even starts to send a change.
#
#   scripts/bench/propagation.sh [--files N] [--size BYTES] [--gap-ms MS] [--poll-secs S]
#
# --poll-secs is the polling-only run's interval (default 30, the daemon's default).
set -euo pipefail
# shellcheck source=../lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"

FILES=100
SIZE=4096
GAP_MS=500
POLL_SECS=30
while (($#)); do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --gap-ms) GAP_MS="$2"; shift 2 ;;
    --poll-secs) POLL_SECS="$2"; shift 2 ;;
    *) echo "usage: $0 [--files N] [--size BYTES] [--gap-ms MS] [--poll-secs S]" >&2; exit 2 ;;
  esac
done

"$TCFS_ROOT/scripts/setup.sh" >/dev/null
"$TCFS_ROOT/scripts/services.sh" up >/dev/null

cd "$TCFS_ROOT"
common=(--files "$FILES" --size "$SIZE" --gap-ms "$GAP_MS")
echo "propagation: write in A's root -> complete file in B's root ($FILES files of $SIZE bytes, one every $GAP_MS ms)"
"$DENO" run -A scripts/bench/propagation.ts --mode nats "${common[@]}"
"$DENO" run -A scripts/bench/propagation.ts --mode poll --poll-secs "$POLL_SECS" "${common[@]}"

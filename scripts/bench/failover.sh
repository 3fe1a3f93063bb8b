#!/usr/bin/env bash
# Live sync through the loss of a NATS node: two real daemons on a private 3-node JetStream
# cluster (loopback), 100 writes one every 200 ms, the node holding the state stream's leader
# killed after write 30 and restarted after write 70. Prints propagation p50/p99/max, lost
# files and duplicate deliveries. Not a test (tests/daemon/cluster_failover_test.ts is).
#
#   scripts/bench/failover.sh [--writes N] [--gap-ms MS] [--kill-after N] [--restart-after N]
set -euo pipefail
# shellcheck source=../lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"

"$TCFS_ROOT/scripts/setup.sh" >/dev/null
"$TCFS_ROOT/scripts/services.sh" up >/dev/null

cd "$TCFS_ROOT"
exec "$DENO" run -A scripts/bench/failover.ts "$@"

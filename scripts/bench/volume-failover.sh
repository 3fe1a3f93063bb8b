#!/usr/bin/env bash
# Losing a SeaweedFS volume server mid-push (issue 16): on a private loopback cluster (one master,
# a filer, volume servers with replication, the S3 gateway), the volume server holding the pushed
# pack's volume is killed while the push runs; every push completes or fails and is run again
# until one completes; then `tcfs check --read-data` and a full pull compared byte for byte must
# find nothing missing. Prints failed pushes, re-runs and the time to completion per round. Not a
# test (tests/faults/volume_server_loss_test.ts is). The NATS half is scripts/bench/failover.sh.
#
#   scripts/bench/volume-failover.sh [--rounds N] [--mib MIB] [--volume-servers N]
#                                    [--replication XYZ] [--max-pushes N]
set -euo pipefail
# shellcheck source=../lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"

"$TCFS_ROOT/scripts/setup.sh" >/dev/null
cd "$TCFS_ROOT"
exec "$DENO" run -A scripts/bench/volume_failover.ts "$@"

#!/usr/bin/env bash
# Runs one node of a loopback SeaweedFS cluster until SIGTERM (which kills it, like a crash): the
# single place that knows the cluster's weed flags. tests/support/seaweedfs_cluster.ts starts one
# master, one filer, several volume servers and the S3 gateway with it; docs/OPERATIONS.md
# ("SeaweedFS cluster") shows the same commands.
#
#   run-node.sh master DATA_DIR PORT REPLICATION
#   run-node.sh volume DATA_DIR PORT MASTER_PORT RACK
#   run-node.sh filer  DATA_DIR PORT MASTER_PORT
#   run-node.sh s3     DATA_DIR PORT FILER_PORT S3_CONFIG
#
# Every gRPC port is its HTTP port + 10000, given explicitly so weed fails on a taken port instead
# of silently moving. REPLICATION is the master's -defaultReplication (e.g. 001: one more copy on
# another server of the same rack). Volume servers are all in data center dc1; RACK names theirs.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  sed -n '/^#   run-node/s/^#   //p' "$0" >&2
  exit 2
}
(($# >= 3)) || usage
role="$1" data_dir="$2" port="$3"
weed_require run-node.sh
mkdir -p "$data_dir"
local_ip=(-ip=127.0.0.1 -ip.bind=127.0.0.1)
grpc=(-port="$port" -port.grpc="$((port + 10000))")

case "$role:$#" in
  master:4)
    # Small volumes, so that a test's few MiB spread over several of them; telemetry off.
    args=(master "${local_ip[@]}" "${grpc[@]}" -mdir="$data_dir" -peers=none
      -defaultReplication="$4" -volumeSizeLimitMB=64 -telemetry=false) ;;
  volume:5)
    # -max: volumes aren't preallocated, and every bucket is its own collection.
    args=(volume "${local_ip[@]}" "${grpc[@]}" -dir="$data_dir" -master="127.0.0.1:$4"
      -dataCenter=dc1 -rack="$5" -max=100 -preStopSeconds=0) ;;
  filer:4)
    args=(filer "${local_ip[@]}" "${grpc[@]}" -master="127.0.0.1:$4"
      -defaultStoreDir="$data_dir" -localSocket="$data_dir/filer.sock") ;;
  s3:5)
    args=(s3 -ip.bind=127.0.0.1 "${grpc[@]}" -filer="127.0.0.1:$4" -config="$5"
      -localSocket="$data_dir/s3.sock" -port.iceberg=0 -port.lance=0) ;;
  *) usage ;;
esac
weed_run_killable "${args[@]}"

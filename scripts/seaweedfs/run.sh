#!/usr/bin/env bash
# Runs SeaweedFS as one loopback-only S3 server until SIGTERM: the single place that knows weed's
# flags and how to stop it. scripts/services.sh and tests/support/seaweedfs_process.ts start it.
#
#   run.sh DATA_DIR S3_CONFIG S3_PORT MASTER_PORT VOLUME_PORT FILER_PORT ADMIN_PORT
#
# S3_CONFIG is an identities JSON (-s3.config). Every gRPC port is its HTTP port + 10000, given
# explicitly so weed fails on a taken port instead of silently moving. Buckets are not created
# here: callers create them with a signed request, which works for `weed mini` and `weed server`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if (($# != 7)); then
  echo "usage: $0 DATA_DIR S3_CONFIG S3_PORT MASTER_PORT VOLUME_PORT FILER_PORT ADMIN_PORT" >&2
  exit 2
fi
data_dir="$1" s3_config="$2"
http_ports=("$3" "$4" "$5" "$6" "$7")
s3_port="$3" master_port="$4" volume_port="$5" filer_port="$6" admin_port="$7"
weed_require run.sh
mkdir -p "$data_dir"

common=(
  -dir="$data_dir" -ip=127.0.0.1 -ip.bind=127.0.0.1
  -master.port="$master_port" -master.port.grpc="$((master_port + 10000))"
  -volume.port="$volume_port" -volume.port.grpc="$((volume_port + 10000))"
  -filer.port="$filer_port" -filer.port.grpc="$((filer_port + 10000))"
  -s3.port="$s3_port" -s3.port.grpc="$((s3_port + 10000))" -s3.config="$s3_config"
  -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false -master.telemetry=false
  -volume.preStopSeconds=0
  -filer.localSocket="$data_dir/filer.sock" -s3.localSocket="$data_dir/s3.sock"
)
mini_help="$("$WEED" mini -h 2>&1 || true)"
if [[ "$mini_help" == *-admin.ui* ]]; then
  # mini (SeaweedFS >= 4.04): S3 answers in ~4 s; `weed server` answers in ~2.5 s but its first
  # PUT then blocks ~9 s while it grows a volume.
  # Every bucket is its own collection with at least one volume; mini's auto-sized slots run out
  # after a few dozen test buckets ("no free volumes left"). Volumes aren't preallocated, so many
  # small slots cost nothing.
  command=(mini "${common[@]}" -admin.ui=false -admin.port="$admin_port"
    -admin.port.grpc="$((admin_port + 10000))" -admin.port.legacy=0
    -volume.max=2000 -master.volumeSizeLimitMB=64)
else
  command=(server -s3 -filer "${common[@]}" -volume.max=0 -master.volumeSizeLimitMB=1024)
fi

status=0
weed_run_killable "${command[@]}" || status=$?
# A killed weed leaves the gRPC unix sockets it made under /tmp, named by port.
for port in "${http_ports[@]}"; do
  rm -f /tmp/seaweedfs-{master,volume,filer,s3,admin}-grpc-$((port + 10000)).sock
done
exit "$status"

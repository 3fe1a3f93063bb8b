#!/usr/bin/env bash
# Runs SeaweedFS in the foreground as one loopback-only S3 server: the single place that knows
# weed's flags. scripts/services.sh and tests/support/seaweedfs_process.ts both start it this way.
#
#   run.sh DATA_DIR S3_CONFIG S3_PORT MASTER_PORT VOLUME_PORT FILER_PORT ADMIN_PORT
#
# S3_CONFIG is an identities JSON (-s3.config). Every gRPC port is its HTTP port + 10000, given
# explicitly so weed fails on a taken port instead of silently moving. Buckets are not created
# here: callers create them with a signed request, which works for `weed mini` and `weed server`.
set -euo pipefail
# shellcheck source=../lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"

if (($# != 7)); then
  echo "usage: $0 DATA_DIR S3_CONFIG S3_PORT MASTER_PORT VOLUME_PORT FILER_PORT ADMIN_PORT" >&2
  exit 2
fi
data_dir="$1" s3_config="$2" s3_port="$3" master_port="$4" volume_port="$5" filer_port="$6"
admin_port="$7"
weed="$TCFS_TOOLS/bin/weed"
[[ -x "$weed" ]] || {
  echo "run.sh: $weed is missing; run scripts/setup.sh" >&2
  exit 1
}
mkdir -p "$data_dir"

common=(
  -dir="$data_dir" -ip=127.0.0.1 -ip.bind=127.0.0.1
  -master.port="$master_port" -master.port.grpc="$((master_port + 10000))"
  -volume.port="$volume_port" -volume.port.grpc="$((volume_port + 10000))"
  -filer.port="$filer_port" -filer.port.grpc="$((filer_port + 10000))"
  -s3.port="$s3_port" -s3.port.grpc="$((s3_port + 10000))" -s3.config="$s3_config"
  -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false -master.telemetry=false
)
# -logtostderr keeps glog's files out of /tmp; the caller redirects stderr to its log.
if "$weed" mini -h 2>&1 | grep -q -- '-admin.ui'; then
  # mini (SeaweedFS >= 4.04) is ready in ~5 s and stops in ~3 s; `server` takes ~11 s and ~25 s.
  exec "$weed" -logtostderr mini "${common[@]}" \
    -admin.ui=false -admin.port="$admin_port" -admin.port.grpc="$((admin_port + 10000))" \
    -admin.port.legacy=0 \
    -filer.localSocket="$data_dir/filer.sock" -s3.localSocket="$data_dir/s3.sock"
fi
exec "$weed" -logtostderr server -s3 -filer "${common[@]}" -volume.max=0 \
  -master.volumeSizeLimitMB=1024

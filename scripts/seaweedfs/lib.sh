# shellcheck shell=bash
# Shared by the scripts that run SeaweedFS (run.sh: one `weed mini`/`weed server`; run-node.sh: one
# node of a cluster): where weed is, and running it so that SIGTERM stops it like a crash.
# shellcheck source=../lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/env.sh"

WEED="$TCFS_TOOLS/bin/weed"

# Fails with a hint when weed is not built; $1 names the calling script in the message.
weed_require() {
  [[ -x "$WEED" ]] || {
    echo "$1: $WEED is missing; run scripts/setup.sh" >&2
    exit 1
  }
}

# Runs `weed -logtostderr ARGS...` until it exits; a TERM or INT to this script kills it. weed's
# graceful stop spends ~15 s on a metadata flush that can no longer succeed (its volume server has
# already stopped), so stopping means killing. Written data is in the OS by then, so a restart on
# the same data dir sees it, as after a crash. Returns weed's exit status.
weed_run_killable() {
  # -logtostderr keeps glog's files out of /tmp; the caller sends our output to its log.
  "$WEED" -logtostderr "$@" &
  local weed_pid=$! status=0
  # shellcheck disable=SC2064 # the pid is fixed now
  trap "kill -KILL $weed_pid 2>/dev/null || true" TERM INT
  while kill -0 "$weed_pid" 2>/dev/null; do
    wait "$weed_pid" || status=$?
  done
  return "$status"
}

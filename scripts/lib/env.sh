# Shared by every script: where the project's tools live. Source it, don't run it.
TCFS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TCFS_TOOLS="$TCFS_ROOT/.tools"
export DENO_DIR="${DENO_DIR:-$TCFS_TOOLS/deno-dir}"
export DENO_NO_UPDATE_CHECK=1
export PATH="$TCFS_TOOLS/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:$PATH"
DENO="$TCFS_TOOLS/bin/deno"

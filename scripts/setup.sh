#!/usr/bin/env bash
# Installs what tcfs needs to build and test, and only what is missing. Safe to run again: when
# everything is present it prints nothing and takes a second or two.
#
#   Deno (pinned, from npm)  → .tools/bin/deno
#   SeaweedFS weed (pinned)  → .tools/bin/weed   (built from scripts/seaweedfs/go.mod)
#   casefold-fs (tests)      → .tools/bin/casefold-fs (built from tests/support/casefold_fs)
#   sops (pinned)            → .tools/bin/sops
#   nats-server, age, keepassxc-cli, rclone, restic, shellcheck, curl, systemd-analyze, python3,
#   nix-instantiate → Debian packages
#   npm dependencies of deno.json/deno.lock → $DENO_DIR
#
#   scripts/setup.sh               everything the tests need
#   scripts/setup.sh --deno-only   only Deno and the npm dependencies (what the CLI needs)
set -euo pipefail
# shellcheck source=lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"

DENO_VERSION=2.9.6
SOPS_MODULE=github.com/getsops/sops/v3
SOPS_VERSION=v3.13.2
WEED_MODULE=github.com/seaweedfs/seaweedfs
WEED_MODULE_DIR="$TCFS_ROOT/scripts/seaweedfs"
LOG_DIR="$TCFS_TOOLS/logs"

# command → Debian package that provides it
declare -A APT_PACKAGES=(
  [nats-server]=nats-server
  [age]=age
  [keepassxc-cli]=keepassxc
  [fusermount3]=fuse3
  [rclone]=rclone
  [restic]=restic
  [shellcheck]=shellcheck
  [curl]=curl
  # Fleet tests (issue 3): unit files are checked with systemd-analyze verify, plists with
  # Python's plistlib, and nix/tcfsd.nix is parsed and evaluated with nix-instantiate.
  [systemd-analyze]=systemd
  [python3]=python3
  [nix-instantiate]=nix-bin
)

say() { echo "setup: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# Runs a noisy install step with its output in a log file; shows the log's tail if it fails.
run_logged() {
  local name="$1"
  shift
  local log="$LOG_DIR/$name.log"
  mkdir -p "$LOG_DIR"
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "$name failed (full log: $log)"
  fi
}

# The version a Go binary was built with for one module ("" when unknown), from its build info.
go_binary_module_version() {
  local binary="$1" module="$2"
  go version -m "$binary" 2>/dev/null |
    awk -v m="$module" '($1 == "mod" || $1 == "dep") && $2 == m { print $3 }'
}

install_deno() {
  if [[ -x "$DENO" && "$("$DENO" --version 2>/dev/null)" == "deno $DENO_VERSION "* ]]; then
    return
  fi
  say "installing Deno $DENO_VERSION from npm into .tools/"
  mkdir -p "$TCFS_TOOLS/bin"
  run_logged deno-install npm install --no-save --no-audit --no-fund --prefix "$TCFS_TOOLS" \
    "deno@$DENO_VERSION"
  # npm installs only the optional @deno/<platform> package that matches this machine.
  local binary
  for binary in "$TCFS_TOOLS"/node_modules/@deno/*/deno; do
    if [[ -x "$binary" ]]; then
      ln -sfn "../node_modules/@deno/$(basename "$(dirname "$binary")")/deno" "$DENO"
      "$DENO" --version >/dev/null || die "the installed Deno binary $binary does not run"
      return
    fi
  done
  die "npm installed deno@$DENO_VERSION but no @deno/<platform>/deno binary for $(uname -sm)"
}

# The wrapper module pins the version and carries upstream's replace directives.
build_weed() (
  cd "$WEED_MODULE_DIR" && go build -o "$1" "$WEED_MODULE/weed"
)

install_weed() {
  local weed="$TCFS_TOOLS/bin/weed" wanted
  wanted="$(awk -v m="$WEED_MODULE" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' \
    "$WEED_MODULE_DIR/go.mod")"
  [[ -n "$wanted" ]] || die "scripts/seaweedfs/go.mod does not require $WEED_MODULE"
  if [[ -x "$weed" ]] && "$weed" version >/dev/null 2>&1 &&
    [[ "$(go_binary_module_version "$weed" "$WEED_MODULE")" == "$wanted" ]]; then
    return
  fi
  say "building SeaweedFS weed $wanted (a cold build downloads ~500 modules and takes minutes)"
  mkdir -p "$TCFS_TOOLS/bin"
  run_logged weed-build build_weed "$weed"
  "$weed" version >/dev/null 2>&1 || die "the freshly built $weed does not run"
}

# The test filesystem that folds case (tests/support/casefold_fs): built again when its source
# is newer than the binary.
CASEFOLD_DIR="$TCFS_ROOT/tests/support/casefold_fs"
build_casefold_fs() (
  cd "$CASEFOLD_DIR" && go build -o "$1" .
)

install_casefold_fs() {
  local binary="$TCFS_TOOLS/bin/casefold-fs" source
  if [[ -x "$binary" ]]; then
    for source in "$CASEFOLD_DIR"/*; do [[ "$source" -nt "$binary" ]] && break; done
    [[ "$source" -nt "$binary" ]] || return 0
  fi
  say "building the tests' case-folding filesystem (tests/support/casefold_fs)"
  mkdir -p "$TCFS_TOOLS/bin"
  run_logged casefold-fs-build build_casefold_fs "$binary"
}

install_sops() {
  local sops="$TCFS_TOOLS/bin/sops"
  if [[ -x "$sops" ]] && [[ "$(go_binary_module_version "$sops" "$SOPS_MODULE")" == "$SOPS_VERSION" ]]; then
    return
  fi
  say "installing sops $SOPS_VERSION with go install"
  mkdir -p "$TCFS_TOOLS/bin"
  run_logged sops-install env GOBIN="$TCFS_TOOLS/bin" go install "$SOPS_MODULE/cmd/sops@$SOPS_VERSION"
}

install_apt_packages() {
  local missing=() command
  for command in "${!APT_PACKAGES[@]}"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("${APT_PACKAGES[$command]}")
  done
  ((${#missing[@]})) || return 0
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "missing packages ${missing[*]}; install them as root"
    sudo=(sudo)
  fi
  say "installing Debian packages: ${missing[*]}"
  local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y
    --no-install-recommends "${missing[@]}")
  mkdir -p "$LOG_DIR"
  if ! "${install[@]}" >"$LOG_DIR/apt.log" 2>&1; then
    # A fresh machine often has no package lists yet; refresh them only when needed.
    run_logged apt-update "${sudo[@]}" apt-get update
    run_logged apt "${install[@]}"
  fi
}

cache_npm_dependencies() {
  # Fetches the npm packages deno.lock pins into DENO_DIR; a no-op when they are cached.
  (cd "$TCFS_ROOT" && run_logged deno-deps "$DENO" install)
}

command -v npm >/dev/null 2>&1 || die "npm is required to install Deno; install Node.js 20 or newer"
if [[ "${1:-}" == "--deno-only" ]]; then
  # What the CLI alone needs (scripts/demo.sh): no servers, no Go.
  install_deno
  cache_npm_dependencies
  exit 0
fi

# The Go tarball's default place, for machines where it is not on PATH yet.
command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null 2>&1 || die "Go is required (1.26 or newer) to build weed and sops; put it on PATH"

install_apt_packages
install_deno
install_sops
install_weed
install_casefold_fs
cache_npm_dependencies

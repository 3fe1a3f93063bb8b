#!/bin/sh
# Installs the tcfs executable:
#
#   curl -fsSL https://github.com/tinyland-inc/tcfs/releases/latest/download/install.sh | sh
#
# It downloads tcfs-<os>-<arch> and SHA256SUMS from the release, verifies the SHA-256 before
# anything is installed, and puts tcfs in /usr/local/bin (as root) or ~/.local/bin. Running it
# again upgrades in place by an atomic rename, so a running `tcfs daemon` keeps its file intact.
# It never uses sudo itself: run it as root (`… | sudo sh`) for /usr/local/bin.
#
# Settings (environment):
#   TCFS_VERSION=v0.7.0         install that release instead of the latest
#   TCFS_INSTALL_DIR=/some/dir  install there instead
#   TCFS_INSTALL_BASE_URL=url   download from there instead of the GitHub release
#   TCFS_INSTALL_OS, TCFS_INSTALL_ARCH   stand in for `uname -s` and `uname -m` (for tests)
#
# Everything is inside main, so a download cut short by the network runs nothing.
set -eu

say() { printf '%s\n' "$*"; }
die() {
  printf 'tcfs install: %s\n' "$*" >&2
  exit 1
}

detect_os() {
  uname_s="${TCFS_INSTALL_OS:-$(uname -s)}"
  case "$uname_s" in
    Linux) echo linux ;;
    Darwin) echo darwin ;;
    *) die "unsupported operating system $uname_s; supported: Linux, Darwin (macOS)" ;;
  esac
}

detect_arch() {
  uname_m="${TCFS_INSTALL_ARCH:-$(uname -m)}"
  # A shell under Rosetta reports x86_64 on Apple silicon; the native build is the one to use.
  if [ -z "${TCFS_INSTALL_ARCH:-}" ] && [ "$uname_m" = x86_64 ] &&
    [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
    uname_m=arm64
  fi
  case "$uname_m" in
    x86_64 | amd64) echo x86_64 ;;
    aarch64 | arm64) echo aarch64 ;;
    *) die "unsupported architecture $uname_m; supported: x86_64 (amd64), aarch64 (arm64)" ;;
  esac
}

release_url() {
  if [ -n "${TCFS_INSTALL_BASE_URL:-}" ]; then
    echo "${TCFS_INSTALL_BASE_URL%/}"
  elif [ -n "${TCFS_VERSION:-}" ]; then
    case "$TCFS_VERSION" in
      v*) echo "https://github.com/tinyland-inc/tcfs/releases/download/$TCFS_VERSION" ;;
      *) echo "https://github.com/tinyland-inc/tcfs/releases/download/v$TCFS_VERSION" ;;
    esac
  else
    echo "https://github.com/tinyland-inc/tcfs/releases/latest/download"
  fi
}

# download URL FILE: fails with a message naming the URL on any HTTP error.
download() {
  if command -v curl >/dev/null 2>&1; then
    if ! error="$(curl -fsSL --retry 3 -o "$2" "$1" 2>&1)"; then
      die "could not download $1: ${error#curl: }"
    fi
  elif command -v wget >/dev/null 2>&1; then
    if ! wget -q -O "$2" "$1"; then
      die "could not download $1 (wget failed; the server answered with an error or was unreachable)"
    fi
  else
    die "neither curl nor wget is installed; install one of them and run this again"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{ print $1 }'
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | awk '{ print $1 }'
  else
    die "neither sha256sum nor shasum is installed, so the download can't be verified"
  fi
}

# verify FILE NAME SUMS_FILE SUMS_URL: the SHA-256 of FILE must be the one SUMS_FILE gives NAME.
verify() {
  expected="$(awk -v name="$2" '$2 == name || $2 == "*" name { print tolower($1); exit }' "$3")"
  [ -n "$expected" ] ||
    die "$4 has no checksum for $2; refusing to install an unverified binary. Nothing was installed."
  actual="$(sha256_of "$1")"
  [ "$actual" = "$expected" ] ||
    die "checksum mismatch for $2: SHA256SUMS says $expected, the download is $actual. The file is corrupt or was tampered with. Nothing was installed."
}

default_install_dir() {
  if [ "$(id -u)" = 0 ]; then echo /usr/local/bin; else echo "$HOME/.local/bin"; fi
}

main() {
  os="$(detect_os)"
  arch="$(detect_arch)"
  name="tcfs-$os-$arch"
  base="$(release_url)"
  dir="${TCFS_INSTALL_DIR:-$(default_install_dir)}"
  if [ -d "$dir" ] && [ ! -w "$dir" ]; then
    die "$dir is not writable; run this as root (e.g. curl … | sudo sh) or set TCFS_INSTALL_DIR"
  fi

  work="$(mktemp -d "${TMPDIR:-/tmp}/tcfs-install.XXXXXX")"
  staged=""
  trap 'rm -rf "$work"; [ -z "$staged" ] || rm -f "$staged"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  say "downloading $name from $base"
  download "$base/$name" "$work/$name"
  download "$base/SHA256SUMS" "$work/SHA256SUMS"
  verify "$work/$name" "$name" "$work/SHA256SUMS" "$base/SHA256SUMS"

  mkdir -p "$dir" || die "could not create $dir; set TCFS_INSTALL_DIR to a directory you can write"
  # Stage the copy beside its final name: mv within one file system is an atomic rename, and it
  # leaves the old file's inode (still mapped by a running daemon) untouched.
  staged="$(mktemp "$dir/.tcfs.XXXXXX")" || die "$dir is not writable; set TCFS_INSTALL_DIR"
  cp "$work/$name" "$staged"
  chmod 755 "$staged"
  if ! version="$("$staged" --version 2>&1)"; then
    die "the downloaded $name does not run on this machine: $version. Nothing was installed."
  fi
  mv -f "$staged" "$dir/tcfs"
  staged=""

  say "installed $dir/tcfs ($version)"
  case ":$PATH:" in
    *":$dir:"*) ;;
    *) say "$dir is not on your PATH; add it, e.g. in ~/.profile: export PATH=\"$dir:\$PATH\"" ;;
  esac
  say "next: enroll this machine with"
  # shellcheck disable=SC2016 # printed for the user to run, not expanded here
  say '  tcfs device enroll --name $(hostname)'
}

main "$@"

#!/usr/bin/env bash
# Builds the tcfs executables with `deno compile`, using the same flags as scripts/tcfs:
#
#   scripts/compile.sh          → dist/tcfs-{linux,darwin}-{x86_64,aarch64} and dist/SHA256SUMS
#   scripts/compile.sh --check  → checks what can be checked without compiling (module graph,
#                                 dynamic imports, source-tree reads, WASM loading)
#
# deno compile embeds the program in Deno's runtime binary, denort (of the same Deno version),
# which Deno downloads from https://dl.deno.land. Where that server can't be reached, give it
# one denort per target; this script looks, in order, at:
#   DENORT_BIN_<target>   (dashes as underscores, e.g. DENORT_BIN_aarch64_apple_darwin) → a denort
#   DENORT_BIN            → a denort for the host's own target only
#   $TCFS_DENORT_DIR/denort-<target>.zip   (default: $DENO_DIR/dl/release/v<deno version>/,
#                                           where Deno itself caches the download)
# and with TCFS_ALLOW_DENORT_DOWNLOAD=1 lets Deno download what is still missing. If a target has
# no denort, it stops before compiling anything. Every denort is checked first: the right
# executable format for its target, and not the full `deno` CLI (which "compiles" into a REPL).
#
# Other settings: TCFS_COMPILE_TARGETS (space- or comma-separated; target triples or
# linux-x86_64-style names; default all four), TCFS_DIST_DIR (default dist/). dist/ then holds
# exactly this run's executables: they are built aside and moved in only when all succeeded.
set -euo pipefail
# shellcheck source=lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
# shellcheck source=lib/deno-flags.sh
source "$TCFS_ROOT/scripts/lib/deno-flags.sh"

ALL_TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin)
# Help text of `deno compile` itself: present in the full CLI, absent from denort.
DENO_CLI_SIGNATURE="Compile the script into a self contained executable"

say() { echo "compile: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# x86_64-apple-darwin → darwin-x86_64
short_name() {
  local arch="${1%%-*}"
  case "$1" in
    *-linux-*) echo "linux-$arch" ;;
    *-darwin) echo "darwin-$arch" ;;
  esac
}

# The executable format a target runs, as binary_format prints it.
target_format() {
  case "$1" in
    *-linux-*) echo "ELF ${1%%-*}" ;;
    *-darwin) echo "Mach-O ${1%%-*}" ;;
  esac
}

# "ELF x86_64", "Mach-O aarch64", … read from the file's header.
binary_format() {
  local bytes
  bytes="$(od -An -tx1 -N20 "$1" | tr -d ' \n')"
  case "$bytes" in
    7f454c46*)
      case "${bytes:36:4}" in
        3e00) echo "ELF x86_64" ;;
        b700) echo "ELF aarch64" ;;
        *) echo "ELF (machine 0x${bytes:38:2}${bytes:36:2})" ;;
      esac
      ;;
    cffaedfe*)
      case "${bytes:8:8}" in
        07000001) echo "Mach-O x86_64" ;;
        0c000001) echo "Mach-O aarch64" ;;
        *) echo "Mach-O (cpu ${bytes:8:8})" ;;
      esac
      ;;
    cafebabe*) echo "universal Mach-O" ;;
    *) echo "not an executable" ;;
  esac
}

# Fails unless $1 is a denort that can serve as the base of a binary for target $2.
check_denort() {
  local path="$1" target="$2" source="$3" format
  [[ -f "$path" ]] || die "$source: $path does not exist"
  format="$(binary_format "$path")"
  if [[ "$format" != "$(target_format "$target")" ]]; then
    die "$source: $path is $format, but $target needs $(target_format "$target")"
  fi
  if grep -qaF "$DENO_CLI_SIGNATURE" "$path"; then
    die "$source: $path is the full deno CLI, not denort; a binary built on it starts the Deno" \
      "REPL instead of tcfs. Use denort-$target.zip from https://dl.deno.land/release/v$DENO_VERSION/"
  fi
}

# Prints the denort to build $1 on, "download" when Deno may fetch it, or "" when there is none.
resolve_denort() {
  local target="$1" per_target_var="DENORT_BIN_${1//-/_}"
  local zip="$DENORT_DIR/denort-$target.zip"
  if [[ -n "${!per_target_var:-}" ]]; then
    check_denort "${!per_target_var}" "$target" "$per_target_var"
    echo "${!per_target_var}"
  elif [[ "$target" == "$HOST_TARGET" && -n "${DENORT_BIN:-}" ]]; then
    check_denort "$DENORT_BIN" "$target" DENORT_BIN
    echo "$DENORT_BIN"
  elif [[ -f "$zip" ]]; then
    command -v unzip >/dev/null || die "unzip is needed to read $zip; install it (apt-get install unzip)"
    unzip -p "$zip" denort >"$WORK/denort-$target" 2>/dev/null || die "$zip holds no file named denort"
    check_denort "$WORK/denort-$target" "$target" "$zip"
    echo "$WORK/denort-$target"
  elif [[ "${TCFS_ALLOW_DENORT_DOWNLOAD:-}" == 1 ]]; then
    echo download
  fi
}

# Stops, explaining where the denorts for the targets in "$@" go.
die_missing_denorts() {
  local target host_note lines=""
  for target in "$@"; do
    host_note=""
    [[ "$target" != "$HOST_TARGET" ]] || host_note=", or DENORT_BIN"
    lines+="
    $DENORT_DIR/denort-$target.zip  (or DENORT_BIN_${target//-/_}$host_note)"
  done
  die "no denort for $*; nothing was compiled.
  deno compile builds each executable on denort $DENO_VERSION, Deno's runtime binary for the
  target, and downloads it from https://dl.deno.land/release/v$DENO_VERSION/ unless it is provided.
  Missing:$lines
  Put each zip there (from https://dl.deno.land/release/v$DENO_VERSION/<zip name>), or set the
  variable to the path of a denort $DENO_VERSION for that target, then run scripts/compile.sh again.
  Where dl.deno.land is reachable, TCFS_ALLOW_DENORT_DOWNLOAD=1 lets Deno download them instead."
}

# The targets to build, one line, space-separated.
selected_targets() {
  local wanted="${TCFS_COMPILE_TARGETS:-${ALL_TARGETS[*]}}" name target selected=()
  for name in ${wanted//,/ }; do
    for target in "${ALL_TARGETS[@]}"; do
      if [[ "$name" == "$target" || "$name" == "$(short_name "$target")" ]]; then
        selected+=("$target")
        continue 2
      fi
    done
    die "TCFS_COMPILE_TARGETS: unknown target $name; known: ${ALL_TARGETS[*]}"
  done
  echo "${selected[*]}"
}

# Fails unless the freshly built $1 is a tcfs for $2 (and, on the host, reports tcfs's version).
check_output() {
  local binary="$1" target="$2" format output
  format="$(binary_format "$binary")"
  [[ "$format" == "$(target_format "$target")" ]] || die "$binary is $format, not $(target_format "$target")"
  [[ "$target" == "$HOST_TARGET" ]] || return 0
  output="$("$binary" --version </dev/null 2>&1)" || true
  if [[ "$output" != *"$TCFS_VERSION"* ]]; then
    die "$binary --version printed \"${output%%$'\n'*}\", not tcfs $TCFS_VERSION; refusing this binary"
  fi
}

sha256_sums() {
  if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

compile() {
  local list targets=() target denort denorts=() missing=() dist="${TCFS_DIST_DIR:-$TCFS_ROOT/dist}"
  list="$(selected_targets)"
  read -r -a targets <<<"$list"
  for target in "${targets[@]}"; do
    denort="$(resolve_denort "$target")"
    [[ -n "$denort" ]] || missing+=("$target")
    denorts+=("$denort")
  done
  [[ "${#missing[@]}" == 0 ]] || die_missing_denorts "${missing[@]}"

  local include_flags=() include
  for include in ${TCFS_DENO_INCLUDES[@]+"${TCFS_DENO_INCLUDES[@]}"}; do
    include_flags+=(--include "$include")
  done
  mkdir -p "$dist"
  STAGE="$(mktemp -d "$dist/.compile.XXXXXX")"
  local i name
  for i in "${!targets[@]}"; do
    target="${targets[$i]}"
    name="tcfs-$(short_name "$target")"
    say "building $name ($target)"
    (
      if [[ "${denorts[$i]}" == download ]]; then unset DENORT_BIN; else export DENORT_BIN="${denorts[$i]}"; fi
      cd "$TCFS_ROOT"
      "$DENO" compile "${TCFS_DENO_RUN_FLAGS[@]}" ${include_flags[@]+"${include_flags[@]}"} \
        --target "$target" --output "$STAGE/$name" main.ts
    ) || die "deno compile failed for $target"
    check_output "$STAGE/$name" "$target"
  done
  (cd "$STAGE" && sha256_sums tcfs-* >SHA256SUMS)
  rm -f "$dist"/tcfs-* "$dist/SHA256SUMS"
  mv "$STAGE"/* "$dist/"
  say "wrote $dist/SHA256SUMS and:" && (cd "$dist" && ls tcfs-*) >&2
}

[[ -x "$DENO" ]] || die "Deno is not installed in .tools/; run scripts/setup.sh first"
case "${1:-}" in
  --check)
    cd "$TCFS_ROOT"
    exec "$DENO" run --no-prompt --quiet --allow-read --allow-env --allow-run \
      scripts/lib/compile_check.ts main.ts ${TCFS_DENO_INCLUDES[@]+"${TCFS_DENO_INCLUDES[@]}"}
    ;;
  "") ;;
  *) die "usage: scripts/compile.sh [--check]" ;;
esac

read -r DENO_VERSION HOST_TARGET TCFS_VERSION < <(cd "$TCFS_ROOT" && "$DENO" eval --quiet \
  'import { tcfsVersion } from "./core/version.ts";
   console.log(Deno.version.deno, Deno.build.target, tcfsVersion());')
[[ -n "${TCFS_VERSION:-}" ]] || die "could not read the Deno and tcfs versions (core/version.ts)"
DENORT_DIR="${TCFS_DENORT_DIR:-$DENO_DIR/dl/release/v$DENO_VERSION}"
WORK="$(mktemp -d)"
STAGE=""
trap 'rm -rf "$WORK" ${STAGE:+"$STAGE"}' EXIT
compile

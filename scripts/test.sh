#!/usr/bin/env bash
# The whole check, as CI runs it: setup, services up, type check, lint, format, shellcheck, tests,
# services down (unless they were up before). Exits non-zero if any stage fails; the checks all
# run even after one of them fails.
#
#   scripts/test.sh                          everything
#   scripts/test.sh tests/core/              arguments go to `deno test` (paths, --filter …)
set -euo pipefail
# shellcheck source=lib/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$TCFS_ROOT"

stage() { printf '\n=== %s\n' "$*" >&2; }
failed=()
# Runs one check stage; a failure is remembered and reported at the end.
check() {
  local name="$1"
  shift
  stage "$name"
  "$@" || failed+=("$name")
}

stage setup
scripts/setup.sh

stage "services up"
if scripts/services.sh status >/dev/null 2>&1; then
  # Someone started them for a session of their own (or another run uses them): leave them up.
  echo "services were already up; leaving them running afterwards" >&2
else
  trap 'scripts/services.sh down' EXIT
  # Without these, SIGTERM or SIGINT would end the script without running the EXIT trap.
  trap 'exit 130' INT
  trap 'exit 143' TERM
fi
scripts/services.sh up
# shellcheck source=/dev/null
source "$TCFS_TOOLS/services.env"

shopt -s globstar nullglob
# nullglob drops the patterns of directories that have no TypeScript yet.
typescript=({cli,core,daemon,platform,tests,scripts}/**/*.ts)
[[ -f main.ts ]] && typescript=(main.ts "${typescript[@]}")
if ((${#typescript[@]})); then
  check "deno check (${#typescript[@]} files)" "$DENO" check "${typescript[@]}"
fi
check "deno lint" "$DENO" lint
check "deno fmt --check" "$DENO" fmt --check
# Every script with a shell shebang; sourced libraries (scripts/lib/) are checked through them.
shell_scripts=()
for file in scripts/** .ci/*; do
  [[ -f "$file" && "$(head -n 1 "$file")" =~ ^#!.*[/\ ](ba)?sh([[:space:]]|$) ]] &&
    shell_scripts+=("$file")
done
check "shellcheck (${#shell_scripts[@]} scripts)" shellcheck -x "${shell_scripts[@]}"
# The Go the tests build (tests/support/casefold_fs).
go_checks() (cd tests/support/casefold_fs && test -z "$(gofmt -l .)" && go vet .)
check "gofmt and go vet (tests/support/casefold_fs)" go_checks
check "deno test" "$DENO" test -A "$@"

if ((${#failed[@]})); then
  stage "FAILED: $(printf '%s; ' "${failed[@]}")"
  exit 1
fi
stage "all passed"

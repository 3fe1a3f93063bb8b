# The one definition of how tcfs runs: `scripts/tcfs` (deno run) and `scripts/compile.sh`
# (deno compile) both read these, so what the tests exercise is what ships.
# tcfs reads and writes the user's sync roots, talks to S3/NATS, reads its env for config and
# credentials, runs systemctl/launchctl/sops, node:os needs sys, and `tcfs mount` calls libc
# (/dev/fuse, mount(2)) through FFI. That is every permission (and FFI alone amounts to all of
# them), so it is granted as --allow-all: with separate grants Deno resolves every path a file
# operation names, a readlink per folder on the way, to refuse /dev and /proc, some 11 system
# calls for each file a pull writes.
TCFS_DENO_PERMISSIONS=(--allow-all)
# A 4 MiB semi-space keeps V8's young generation small: a first pull of 30,000 files peaked at
# 290 MB with it against 345 MB without, at no measurable CPU (docs/BENCHMARKS.md, "Peak RSS of
# first syncs"). The old space keeps V8's default limit: a lower one took another 60 MB off, but
# would make a tree past it fail outright instead of only using more memory. --expose-gc lets a
# pull collect between its windows (core/runtime/full_collection.ts).
TCFS_DENO_V8_FLAGS=--max-semi-space-size=4,--expose-gc
TCFS_DENO_RUN_FLAGS=(--no-prompt --quiet "--v8-flags=$TCFS_DENO_V8_FLAGS" "${TCFS_DENO_PERMISSIONS[@]}")
# Modules outside main.ts's graph that the binary needs; compile.sh passes each as --include, and
# compile.sh --check allows a `new Worker(new URL(…, import.meta.url))` only of these. Everything
# else tcfs reads is imported from its own tree.
TCFS_DENO_INCLUDES=(core/hashing/chunk_worker.ts core/crypto/box_opener_worker.ts core/state/log_checkpoint_worker.ts)

# The one definition of how tcfs runs: `scripts/tcfs` (deno run) and `scripts/compile.sh`
# (deno compile) both read these, so what the tests exercise is what ships.
# tcfs reads and writes the user's sync roots, talks to S3/NATS, reads its env for config and
# credentials, runs systemctl/launchctl/sops, node:os needs sys, and `tcfs mount` calls libc
# (/dev/fuse, mount(2)) through FFI. That is every permission (and FFI alone amounts to all of
# them), so it is granted as --allow-all: with separate grants Deno resolves every path a file
# operation names, a readlink per folder on the way, to refuse /dev and /proc, some 11 system
# calls for each file a pull writes.
TCFS_DENO_PERMISSIONS=(--allow-all)
TCFS_DENO_RUN_FLAGS=(--no-prompt --quiet "${TCFS_DENO_PERMISSIONS[@]}")
# Modules outside main.ts's graph that the binary needs; compile.sh passes each as --include, and
# compile.sh --check allows a `new Worker(new URL(…, import.meta.url))` only of these. Everything
# else tcfs reads is imported from its own tree.
TCFS_DENO_INCLUDES=(core/hashing/chunk_worker.ts core/crypto/box_opener_worker.ts)

# The one definition of how tcfs runs: `scripts/tcfs` (deno run) and `scripts/compile.sh`
# (deno compile) both read these, so what the tests exercise is what ships.
# tcfs reads and writes the user's sync roots, talks to S3/NATS, reads its env for config and
# credentials, runs systemctl/launchctl/sops, and node:os needs --allow-sys; `tcfs mount` calls libc
# (open/read of /dev/fuse, mount(2)) through FFI.
TCFS_DENO_PERMISSIONS=(--allow-read --allow-write --allow-net --allow-env --allow-sys --allow-run
  --allow-ffi)
TCFS_DENO_RUN_FLAGS=(--no-prompt --quiet "${TCFS_DENO_PERMISSIONS[@]}")
# Modules outside main.ts's graph that the binary needs; compile.sh passes each as --include, and
# compile.sh --check allows a `new Worker(new URL(…, import.meta.url))` only of these. Everything
# else tcfs reads is imported from its own tree.
TCFS_DENO_INCLUDES=(core/hashing/chunk_worker.ts core/crypto/box_opener_worker.ts)

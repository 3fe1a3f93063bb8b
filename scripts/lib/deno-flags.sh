# The one definition of how tcfs runs: `scripts/tcfs` (deno run) and `scripts/compile.sh`
# (deno compile) both read these, so what the tests exercise is what ships.
# tcfs reads and writes the user's sync roots, talks to S3/NATS, reads its env for config and
# credentials, runs systemctl/launchctl/sops, and node:os needs --allow-sys; `tcfs mount` calls libc
# (open/read of /dev/fuse, mount(2)) through FFI.
TCFS_DENO_PERMISSIONS=(--allow-read --allow-write --allow-net --allow-env --allow-sys --allow-run
  --allow-ffi)
# V8 lets its heap grow past what is live by a factor it scales with the old space's limit (4 GiB
# by default here): a first push or pull of 30,000 files held 130-190 MB of heap for 40-100 MB
# live. A 1 GiB limit makes it collect sooner, and a 4 MiB semi-space keeps the young generation
# small; together they took 100-150 MB off those peaks at no measurable CPU (docs/BENCHMARKS.md,
# "Peak RSS of first syncs"). 1 GiB is three times the RSS goal: past it tcfs would have failed
# that goal long before.
TCFS_DENO_V8_FLAGS=--max-semi-space-size=4,--max-old-space-size=1024
TCFS_DENO_RUN_FLAGS=(--no-prompt --quiet "--v8-flags=$TCFS_DENO_V8_FLAGS" "${TCFS_DENO_PERMISSIONS[@]}")
# Modules outside main.ts's graph that the binary needs; compile.sh passes each as --include, and
# compile.sh --check allows a `new Worker(new URL(…, import.meta.url))` only of these. Everything
# else tcfs reads is imported from its own tree.
TCFS_DENO_INCLUDES=(core/hashing/chunk_worker.ts core/crypto/box_opener_worker.ts)

/**
 * Runs the tcfs CLI of a checkout in this process and, on exit, prints to stderr the peaks of
 * Deno.memoryUsage() sampled every 20 ms: RSS, V8's heap (used and reserved) and the memory
 * outside it (ArrayBuffers), so that a peak RSS can be told apart into heap, buffers and the
 * rest (the runtime, worker isolates, SQLite). For scripts/bench/first-sync.sh; not a test.
 *
 *   deno run <tcfs's flags> --config CHECKOUT/deno.json scripts/bench/memory_sampler.ts CHECKOUT ARGS...
 *
 * @module
 */

const [checkout, ...args] = Deno.args;
const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
const sample = () => {
  const now = Deno.memoryUsage();
  for (const field of Object.keys(peak) as (keyof typeof peak)[]) {
    peak[field] = Math.max(peak[field], now[field]);
  }
};
Deno.unrefTimer(setInterval(sample, 20));
globalThis.addEventListener("unload", () => {
  sample();
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
  console.error(
    `memory peaks (MB): rss ${mb(peak.rss)} heap_used ${mb(peak.heapUsed)} heap_total ${
      mb(peak.heapTotal)
    } external ${mb(peak.external)}`,
  );
});
// What main.ts does before it runs the CLI: without it, restores fsync every file and folder
// instead of sharing syncfs flushes, glibc gives threads arenas of their own, and a pull
// measured here costs what no user's does.
const { limitMallocArenas } = await import(`${checkout}/platform/glibc_malloc.ts`).catch(
  () => ({ limitMallocArenas: () => false }), // a checkout from before it
);
limitMallocArenas();
const { useFilesystemFlusher } = await import(`${checkout}/core/io/restore_durability.ts`);
const { linuxSyncfs } = await import(`${checkout}/platform/linux_syncfs.ts`);
useFilesystemFlusher(linuxSyncfs());
const { runTcfs } = await import(`${checkout}/cli/tcfs_program.ts`);
Deno.exit(await runTcfs(args));

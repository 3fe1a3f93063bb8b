/**
 * Peak RSS and time of a new device's catch-up from one checkpoint of N versions, in process,
 * on a memory store: what a first pull costs before it restores anything. The versions are
 * copies of one real version under N paths in 1,000 folders. The peak is the kernel's
 * high-water mark (VmHWM, reset before the catch-up), since the fold is one synchronous
 * transaction that no timer can sample. Not a test.
 *
 *   deno run -A --config CHECKOUT/deno.json --v8-flags=--max-semi-space-size=4,--expose-gc \
 *     scripts/bench/checkpoint_fold.ts CHECKOUT [N]
 *
 * @module
 */

const [checkout, count = "100000"] = Deno.args;
const n = Number(count);
const { createMemoryStore } = await import(`${checkout}/tests/support/memory_store.ts`);
const { openSyncDevice } = await import(`${checkout}/tests/support/sync_device.ts`);
const { catchUp } = await import(`${checkout}/core/journal/journal_catch_up.ts`);
const codec = await import(`${checkout}/core/journal/journal_codec.ts`);
const { checkpointKey, parseSegmentKey } = await import(`${checkout}/core/remote/remote_keys.ts`);

const status = (field: string) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(Deno.readTextFileSync("/proc/self/status"))![1]) /
  1024;

const tmp = await Deno.makeTempDir({ prefix: "tcfs-checkpoint-fold-" });
const store = createMemoryStore();
using a = await openSyncDevice(tmp, "alpha", store);
await Deno.writeTextFile(`${a.root}/x.txt`, "a small file's text\n");
await a.pushAll();
const segment = [...store.objects.keys()].find((key: string) => parseSegmentKey(key))!;
const [version] = (await codec.decodeSegment(store.objects.get(segment)!, segment, undefined))
  .versions;
const key = checkpointKey("default", 1, a.ctx.device.id);
store.objects.set(
  key,
  await codec.encodeJournalObject(
    {
      journal: codec.JOURNAL_FORMAT,
      namespace: "default",
      author: a.ctx.device.id,
      written_at: new Date().toISOString(),
      cursors: { [a.ctx.device.id]: 1 },
      revoked: {},
      versions: Array.from({ length: n }, (_, i) => ({ ...version, path: `d${i % 1000}/f${i}` })),
    },
    key,
    undefined,
  ),
);
(globalThis as { gc?: () => void }).gc?.();
Deno.writeTextFileSync("/proc/self/clear_refs", "5"); // resets VmHWM
const before = status("VmRSS");
using c = await openSyncDevice(tmp, "gamma", store);
const started = performance.now();
const unreadable = await catchUp(c.ctx);
console.log(
  `${n} versions: catch-up ${(performance.now() - started).toFixed(0)} ms, RSS ${
    before.toFixed(0)
  } MB before, ${status("VmHWM").toFixed(0)} MB peak; ${unreadable.length} unreadable`,
);
await Deno.remove(tmp, { recursive: true });

/**
 * PUT throughput of the store tcfs would open, at several upload concurrencies,
 * to choose how many requests a push keeps in flight.
 *
 * Usage: `set -a; . .tools/services.env; set +a; $DENO run -A scripts/bench/store-put.ts
 * [--count N] [--sizes-kib 4,256] [--concurrency 16,32,64] [--reps R]`
 *
 * The store comes from TCFS_S3_ENDPOINT/ACCESS/SECRET/BUCKET exactly as tcfs
 * opens it (S3 with retries, `file:///dir`, or a temp dir when unset). Each
 * cell PUTs `count` distinct objects of one size with at most `concurrency` in
 * flight, `reps` times under fresh keys, and reports the median; the objects
 * are deleted afterwards, outside the timing.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createLimiter } from "../../core/concurrency/limiter.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { openStore } from "../../core/store/open_store.ts";

const args = parseArgs({
  options: {
    count: { type: "string", default: "1000" },
    "sizes-kib": { type: "string", default: "4,256" },
    concurrency: { type: "string", default: "16,32,64" },
    reps: { type: "string", default: "3" },
  },
}).values;
const numbers = (list: string) => list.split(",").map(Number);
const count = Number(args.count);

const env = (name: string) => Deno.env.get(name) ?? "";
// With no endpoint, the embedded store goes to a temp dir that is removed at the end.
const scratchDir = await Deno.makeTempDir({ prefix: "tcfs-bench-store-" });
const store = openStore({
  endpoint: env("TCFS_S3_ENDPOINT"),
  bucket: env("TCFS_S3_BUCKET") || "tcfs",
  region: "us-east-1",
  defaultStoreDir: scratchDir,
  credentials: { accessKeyId: env("TCFS_S3_ACCESS"), secretAccessKey: env("TCFS_S3_SECRET") },
});
await store.ensureReady();

/** Distinct bodies, so no layer can short-cut repeated content. */
function bodies(sizeKib: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const body = new Uint8Array(sizeKib * 1024);
    for (let offset = 0; offset < body.length; offset += 65536) {
      crypto.getRandomValues(body.subarray(offset, offset + 65536));
    }
    new DataView(body.buffer).setUint32(0, i);
    return body;
  });
}

async function timePuts(target: ObjectStore, prefix: string, data: Uint8Array[], limit: number) {
  const limiter = createLimiter(limit);
  const start = performance.now();
  await Promise.all(data.map((body, i) => limiter.run(() => target.put(`${prefix}${i}`, body))));
  return (performance.now() - start) / 1000;
}

async function removePrefix(target: ObjectStore, prefix: string) {
  const limiter = createLimiter(32);
  const keys = await Array.fromAsync(target.list(prefix), (info) => info.key);
  await Promise.all(keys.map((key) => limiter.run(() => target.delete(key))));
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1];

console.log(`store: ${store.location}; ${count} PUTs per cell, median of ${args.reps}`);
console.log("size     concurrency  seconds  requests/s  MiB/s");
const run = crypto.randomUUID().slice(0, 8);
for (const sizeKib of numbers(args["sizes-kib"])) {
  const data = bodies(sizeKib);
  for (const limit of numbers(args.concurrency)) {
    const seconds: number[] = [];
    for (let rep = 0; rep < Number(args.reps); rep++) {
      const prefix = `bench-store-put-${run}/${sizeKib}k-c${limit}-r${rep}/`;
      seconds.push(await timePuts(store, prefix, data, limit));
      await removePrefix(store, prefix);
    }
    const s = median(seconds);
    console.log(
      `${`${sizeKib} KiB`.padEnd(9)}${String(limit).padStart(11)}  ${s.toFixed(2).padStart(7)}  ${
        (count / s).toFixed(0).padStart(10)
      }  ${(count * sizeKib / 1024 / s).toFixed(1).padStart(5)}`,
    );
  }
}
store.close();
await Deno.remove(scratchDir, { recursive: true });

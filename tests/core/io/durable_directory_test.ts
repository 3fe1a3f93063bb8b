import assert from "node:assert/strict";
import { join } from "node:path";
import { syncDirectory } from "../../../core/io/durable_directory.ts";

/** Counts the folder opens (one per fsync) while `use` runs; `opens()` reads the count so far. */
async function countingOpens(use: (opens: () => number) => Promise<void>): Promise<number> {
  const original = Deno.open;
  let opens = 0;
  Deno.open = ((...args: Parameters<typeof Deno.open>) => {
    opens++;
    return original(...args);
  }) as typeof Deno.open;
  try {
    await use(() => opens);
  } finally {
    Deno.open = original;
  }
  return opens;
}

Deno.test("syncs of one folder asked for together share one; one asked for during a sync gets the next", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const together = await countingOpens(async () => {
      await Promise.all(Array.from({ length: 10 }, () => syncDirectory(dir)));
    });
    assert.equal(together, 1);
    const overlapping = await countingOpens(async (opens) => {
      const first = syncDirectory(dir);
      while (opens() === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      // The first has begun, maybe before these callers' changes: they need a sync of their own.
      await Promise.all([first, syncDirectory(dir), syncDirectory(dir)]);
    });
    assert.equal(overlapping, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed folder sync fails every caller sharing it, and the next one tries again", async () => {
  const dir = await Deno.makeTempDir();
  const gone = join(dir, "gone");
  try {
    const results = await Promise.allSettled([syncDirectory(gone), syncDirectory(gone)]);
    assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
    await Deno.mkdir(gone);
    await syncDirectory(gone);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The record of checked chunk files kept across processes (core/cache/verified_chunks.ts), through
 * the chunk cache on a real disk: each `openChunkCache` here is what a new process would read.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type ChunkCache, openChunkCache } from "../../../core/cache/chunk_cache.ts";
import { TRUST_MS } from "../../../core/cache/verified_chunks.ts";

const ID = "ab".repeat(32);

async function cacheDir() {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-verified-" });
  const open = () =>
    openChunkCache(join(tmp, "chunks"), 1 << 20, { verifiedRecord: join(tmp, "verified") });
  // Checks are appended to the record at the end of the turn: let them land before removing it.
  const remove = () => Promise.resolve().then(() => Deno.remove(tmp, { recursive: true }));
  return { remove, open, record: join(tmp, "verified"), chunk: join(tmp, "chunks/ab", ID) };
}

/** Whether `cache` would serve its chunk file without hashing it (as the range reader asks). */
function servedUnhashed(cache: ChunkCache, id = ID): boolean {
  using file = cache.openSync(id);
  return file !== undefined && cache.verifiedOnRecord(id) &&
    cache.stillVerified(id, file.statSync());
}

/** Waits into the next second: Deno reports ctime in whole seconds. */
async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1100));
}

Deno.test("verified chunks: a chunk put is served unhashed by the next process, past its use-time update, from a private record", async () => {
  const { remove, open, record } = await cacheDir();
  const first = await open();
  first.put(ID, new Uint8Array(1000).fill(1));
  await Promise.resolve(); // the record is written at the end of the turn
  assert.equal((await Deno.stat(record)).mode! & 0o777, 0o600);
  assert.ok(servedUnhashed(first));

  await nextSecond();
  // A new process's first open sets the chunk's use time (a new mtime and ctime): carried over.
  const second = await open();
  assert.ok(servedUnhashed(second));
  await Promise.resolve();
  assert.ok(servedUnhashed(await open()), "the carried check was not recorded");
  await remove();
});

Deno.test("verified chunks: a chunk file written in place, its mtime put back, is hashed again", async () => {
  const { remove, open, chunk } = await cacheDir();
  (await open()).put(ID, new Uint8Array(1000).fill(1));
  await Promise.resolve();
  const { mtime } = await Deno.stat(chunk);
  await nextSecond();
  {
    using file = await Deno.open(chunk, { write: true });
    await file.write(new Uint8Array(10).fill(9));
  }
  await Deno.utime(chunk, mtime!, mtime!);
  const cache = await open();
  assert.ok(cache.verifiedOnRecord(ID), "the check is on record");
  assert.ok(!servedUnhashed(cache), "a file written since its check would be served unhashed");

  // Checked again (by a reader), it is recorded as the file it is now.
  using file = cache.openSync(ID)!;
  cache.recordVerified(ID, file.statSync());
  await Promise.resolve();
  assert.ok(servedUnhashed(await open()));
  await remove();
});

Deno.test("verified chunks: a chunk replaced by a rename is hashed again", async () => {
  const { remove, open, chunk } = await cacheDir();
  (await open()).put(ID, new Uint8Array(1000).fill(1));
  await Promise.resolve();
  await Deno.writeFile(`${chunk}.new`, new Uint8Array(1000).fill(2));
  await Deno.rename(`${chunk}.new`, chunk);
  assert.ok(!servedUnhashed(await open()));
  await remove();
});

Deno.test("verified chunks: a record others could write, or an old check, counts for nothing", async () => {
  const { remove, open, record, chunk } = await cacheDir();
  (await open()).put(ID, new Uint8Array(1000).fill(1));
  await Promise.resolve();
  await Deno.chmod(record, 0o622);
  assert.ok(!(await open()).verifiedOnRecord(ID), "a record writable by others was used");

  const info = await Deno.stat(chunk);
  const old = Date.now() - TRUST_MS - 1000;
  const stamp = `${info.ino} ${info.size} ${info.mtime!.getTime()} ${info.ctime!.getTime()}`;
  await Deno.writeTextFile(record, `${ID} ${stamp} ${old}\n`, { mode: 0o600 });
  assert.ok(!(await open()).verifiedOnRecord(ID), "a check older than a week was trusted");
  await Deno.writeTextFile(record, `${ID} ${stamp} ${Date.now()}\n`, { mode: 0o600 });
  assert.ok(servedUnhashed(await open()), "the line written by hand is not read as it should be");
  await remove();
});

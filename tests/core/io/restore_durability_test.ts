import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type FilesystemFlusher,
  restoreDurability,
  useFilesystemFlusher,
} from "../../../core/io/restore_durability.ts";

/** A flusher that records what restores asked of it; flushes wait until the test releases them. */
function recordingFlusher() {
  const log: string[] = [];
  const waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const flusher: FilesystemFlusher = {
    open(dir) {
      log.push(`open ${dir}`);
      return {
        flush() {
          log.push("flush");
          const { promise, resolve, reject } = Promise.withResolvers<void>();
          waiting.push({ resolve, reject });
          return promise;
        },
        close: () => void log.push("close"),
      };
    },
  };
  /** Waits until `n` flushes have started. */
  const started = async (n: number) => {
    while (log.filter((line) => line === "flush").length < n) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  return {
    flusher,
    log,
    started,
    /** Ends the flush under way, with `failure` if given. */
    release(failure?: Error) {
      const flush = waiting.shift()!;
      if (failure) flush.reject(failure);
      else flush.resolve();
    },
  };
}

Deno.test("restores waiting together share a flush through one handle, closed after the last", async () => {
  const dir = await Deno.makeTempDir();
  const recorder = recordingFlusher();
  useFilesystemFlusher(recorder.flusher);
  try {
    const restores = Array.from({ length: 8 }, () => restoreDurability(dir));
    using file = await Deno.open(join(dir, "f"), { write: true, create: true });
    const first = restores[0].fileWritten(file);
    await recorder.started(1);
    // These come while the first flush runs, which may have begun before their changes.
    const rest = restores.slice(1).map((r) => r.entryChanged(dir));
    recorder.release();
    await first;
    await recorder.started(2);
    recorder.release();
    await Promise.all(rest);
    assert.deepEqual(recorder.log, [`open ${dir}`, "flush", "flush"]);
    for (const r of restores.slice(0, 7)) r[Symbol.dispose]();
    assert.ok(!recorder.log.includes("close"), "held while a restore still holds it");
    restores[7][Symbol.dispose]();
    assert.equal(recorder.log.at(-1), "close");

    using again = restoreDurability(dir);
    assert.equal(recorder.log.at(-1), `open ${dir}`, "a later restore opens a fresh handle");
    const flushed = again.entryChanged(dir);
    await recorder.started(3);
    recorder.release();
    await flushed;
  } finally {
    useFilesystemFlusher(undefined);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed flush fails every restore that waited for it, and the next one runs", async () => {
  const dir = await Deno.makeTempDir();
  const recorder = recordingFlusher();
  useFilesystemFlusher(recorder.flusher);
  try {
    using a = restoreDurability(dir);
    using b = restoreDurability(dir);
    const both = [a.entryChanged(dir), b.entryChanged(dir)];
    await recorder.started(1);
    recorder.release(new Error("write error"));
    for (const result of await Promise.allSettled(both)) {
      assert.equal(result.status, "rejected");
    }
    const next = a.entryChanged(dir);
    await recorder.started(2);
    recorder.release();
    await next;
    assert.equal(recorder.log.filter((line) => line === "flush").length, 2);
  } finally {
    useFilesystemFlusher(undefined);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without a flusher, a restore fsyncs its file and its folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using durability = restoreDurability(dir);
    using file = await Deno.open(join(dir, "f"), { write: true, create: true });
    await file.write(new TextEncoder().encode("bytes"));
    await durability.fileWritten(file);
    await durability.entryChanged(dir);
    assert.equal(await Deno.readTextFile(join(dir, "f")), "bytes");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

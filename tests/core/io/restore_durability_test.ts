import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type FilesystemFlusher,
  restoreBatch,
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

/** Runs `work` with a recording flusher in use and a temp dir, both undone after. */
async function withRecordingFlusher(
  work: (dir: string, recorder: ReturnType<typeof recordingFlusher>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const recorder = recordingFlusher();
  useFilesystemFlusher(recorder.flusher);
  try {
    await work(dir, recorder);
  } finally {
    useFilesystemFlusher(undefined);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a batch flushes once before its renames and once after, through one handle", () =>
  withRecordingFlusher(async (dir, recorder) => {
    {
      using batch = restoreBatch();
      for (let i = 0; i < 8; i++) {
        batch.changing(dir);
        using file = await Deno.open(join(dir, `f${i}`), { write: true, create: true });
        await batch.fileWritten(file);
      }
      const files = batch.filesDurable();
      await recorder.started(1);
      recorder.release();
      await files;
      for (let i = 0; i < 8; i++) batch.entryChanged(dir);
      const entries = batch.entriesDurable();
      await recorder.started(2);
      recorder.release();
      await entries;
      assert.deepEqual(recorder.log, [`open ${dir}`, "flush", "flush"]);
    }
    assert.equal(recorder.log.at(-1), "close", "closed when the batch ends");
  }));

Deno.test("batches share a handle while one holds it, and a flush while none waits", () =>
  withRecordingFlusher(async (dir, recorder) => {
    const batches = Array.from({ length: 4 }, () => restoreBatch());
    for (const batch of batches) batch.changing(dir);
    const first = batches[0].filesDurable();
    await recorder.started(1);
    // These come while the first flush runs, which may have begun before their changes.
    const rest = batches.slice(1).map((batch) => batch.entriesDurable());
    recorder.release();
    await first;
    await recorder.started(2);
    recorder.release();
    await Promise.all(rest);
    assert.deepEqual(recorder.log, [`open ${dir}`, "flush", "flush"]);
    for (const batch of batches.slice(0, 3)) batch[Symbol.dispose]();
    assert.ok(!recorder.log.includes("close"), "held while a batch still holds it");
    batches[3][Symbol.dispose]();
    assert.equal(recorder.log.at(-1), "close");

    using again = restoreBatch();
    again.changing(dir);
    assert.equal(recorder.log.at(-1), `open ${dir}`, "a later batch opens a fresh handle");
  }));

Deno.test("a failed flush fails every batch that waited for it, and the next one runs", () =>
  withRecordingFlusher(async (dir, recorder) => {
    using a = restoreBatch();
    using b = restoreBatch();
    a.changing(dir);
    b.changing(dir);
    const both = [a.entriesDurable(), b.entriesDurable()];
    await recorder.started(1);
    recorder.release(new Error("write error"));
    for (const result of await Promise.allSettled(both)) {
      assert.equal(result.status, "rejected");
    }
    using later = restoreBatch();
    later.changing(dir);
    const next = later.entriesDurable();
    await recorder.started(2);
    recorder.release();
    await next;
    assert.equal(recorder.log.filter((line) => line === "flush").length, 2);
  }));

Deno.test("a write error reported to one batch's flush fails every batch holding the handle", () =>
  withRecordingFlusher(async (dir, recorder) => {
    using failing = restoreBatch();
    using other = restoreBatch();
    failing.changing(dir);
    other.changing(dir); // its bytes may be the ones that failed to reach the disk
    const first = assert.rejects(failing.filesDurable(), /write error/);
    await recorder.started(1);
    recorder.release(new Error("write error"));
    await first;
    // A flush of its own would pass: the kernel reported the error to the first one only.
    const second = other.filesDurable();
    const outcome = await Promise.race([
      second.then(() => "passed", () => "failed"),
      recorder.started(2).then(() => "flushed again"),
    ]);
    assert.equal(outcome, "failed");
    await assert.rejects(second, /write error/);
    await assert.rejects(failing.entriesDurable(), /write error/, "and stays failed");
    assert.equal(recorder.log.filter((line) => line === "flush").length, 1);
  }));

Deno.test("a batch that changed nothing flushes nothing", async () => {
  const recorder = recordingFlusher();
  useFilesystemFlusher(recorder.flusher);
  try {
    using batch = restoreBatch();
    await batch.filesDurable();
    await batch.entriesDurable();
    assert.deepEqual(recorder.log, []);
  } finally {
    useFilesystemFlusher(undefined);
  }
});

Deno.test("without a flusher, a batch fsyncs each file and each folder that changed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using batch = restoreBatch();
    batch.changing(dir);
    using file = await Deno.open(join(dir, "f"), { write: true, create: true });
    await file.write(new TextEncoder().encode("bytes"));
    await batch.fileWritten(file);
    await batch.filesDurable();
    await Deno.rename(join(dir, "f"), join(dir, "g"));
    batch.entryChanged(dir);
    await batch.entriesDurable();
    assert.equal(await Deno.readTextFile(join(dir, "g")), "bytes");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

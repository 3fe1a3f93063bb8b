import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeChunk } from "../../../core/chunking/chunk_codec.ts";
import { chunkStream } from "../../../core/chunking/fastcdc.ts";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import {
  type ChunkRef,
  type FileVersion,
  VERSION_FORMAT,
  type VersionFormat,
} from "../../../core/remote/file_version.ts";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { saveFile } from "../../../core/sync/file_saver.ts";
import { restoreVersion } from "../../../core/sync/file_restorer.ts";
import { createPackWriter } from "../../../core/sync/pack_writer.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { TcfsError } from "../../../core/errors.ts";

function fileVersion(
  content: { size: number; blake3: string; chunks: ChunkRef[] },
  format: VersionFormat = VERSION_FORMAT,
): FileVersion {
  return {
    format,
    path: "data.bin",
    kind: "file",
    mode: 0o640,
    mtime_ms: 1_700_000_000_000,
    ...content,
    vclock: { dev: 1 },
    author: "dev",
    author_name: "dev",
    written_at: new Date().toISOString(),
  };
}

async function withDir(fn: (dir: string, store: ObjectStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-restore-" });
  const store = createFsStore(join(dir, "store"));
  try {
    await store.ensureReady();
    await fn(dir, store);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("neighbouring chunks of a pack come down in one range request", async () => {
  await withDir(async (dir, store) => {
    const source = join(dir, "source.bin");
    await Deno.writeFile(source, randomBytes(6 << 20, 31));
    const packs = createPackWriter(store, { targetBytes: 2 << 20 });
    const { content, durable } = await saveFile(source, packs);
    packs.flush();
    await durable;
    const packCount = new Set(content.chunks.map((c) => c.pack)).size;
    const requests: string[] = [];
    const counting: ObjectStore = {
      ...store,
      get: (key, options) => (requests.push(key), store.get(key, options)),
      getRange: (key, offset, length) => (requests.push(key), store.getRange(key, offset, length)),
    };
    const target = join(dir, "out", "data.bin");
    const counters = { chunksDownloaded: 0, bytesDownloaded: 0 };
    await restoreVersion(counting, fileVersion(content), target, { counters, within: dir });
    assert.deepEqual(await Deno.readFile(target), await Deno.readFile(source));
    assert.equal(
      requests.length,
      packCount,
      `${content.chunks.length} chunks in ${packCount} packs`,
    );
    assert.ok(content.chunks.length > 2 * packCount);
    assert.equal(counters.chunksDownloaded, content.chunks.length);
    assert.equal((await Deno.stat(target)).mode! & 0o777, 0o640);
  });
});

Deno.test("format 1 versions of chunks stored on their own (before packs) still restore", async () => {
  await withDir(async (dir, store) => {
    const bytes = randomBytes(3 << 20, 32);
    const chunks: ChunkRef[] = [];
    for await (const chunk of chunkStream(ReadableStream.from([bytes]))) {
      const id = await blake3Hex(chunk);
      await store.put(`chunks/${id}`, encodeChunk(chunk));
      chunks.push({ id, size: chunk.length });
    }
    // Format 1: the digest is a plain BLAKE3 of the file.
    const version = fileVersion({ size: bytes.length, blake3: await blake3Hex(bytes), chunks }, 1);
    const target = join(dir, "data.bin");
    const counters = { chunksDownloaded: 0, bytesDownloaded: 0 };
    await restoreVersion(store, version, target, { counters, within: dir });
    assert.deepEqual(await Deno.readFile(target), bytes);
    assert.equal(counters.chunksDownloaded, chunks.length);
    // The same chunks under a format 2 claim with that plain hash do not pass.
    await assert.rejects(
      restoreVersion(store, { ...version, format: 2 }, join(dir, "other.bin"), {
        counters,
        within: dir,
      }),
      /does not match its digest/,
    );
  });
});

Deno.test("a range holds at most 4 MiB once decoded, however well its chunks compress", async () => {
  await withDir(async (dir, store) => {
    const source = join(dir, "log.txt");
    const line = new TextEncoder().encode("2026-11-26 12:00:00 sync ok, nothing to report\n");
    const text = new Uint8Array(12 << 20);
    for (let at = 0; at < text.length; at += line.length) {
      text.set(line.subarray(0, text.length - at), at);
    }
    // A little noise keeps the chunker's cut points varied.
    text.set(randomBytes(4096, 33), 5 << 20);
    await Deno.writeFile(source, text);
    const packs = createPackWriter(store);
    const { content, durable } = await saveFile(source, packs);
    packs.flush();
    await durable;
    const stored = content.chunks.reduce((n, c) => n + c.length!, 0);
    assert.ok(stored < 4 << 20, `compressed to ${stored} bytes: one pack, one possible range`);
    let requests = 0;
    const counting: ObjectStore = {
      ...store,
      getRange: (key, offset, length) => (requests++, store.getRange(key, offset, length)),
    };
    const target = join(dir, "out.txt");
    await restoreVersion(counting, fileVersion(content), target, {
      within: dir,
      counters: { chunksDownloaded: 0, bytesDownloaded: 0 },
    });
    assert.deepEqual(await Deno.readFile(target), text);
    assert.ok(requests >= 3, `${requests} requests for 12 MiB of raw chunks`);
  });
});

/** A small file saved into `store`, and its version. */
async function savedVersion(dir: string, store: ObjectStore, seed: number): Promise<FileVersion> {
  const source = join(dir, `source-${seed}.bin`);
  await Deno.writeFile(source, randomBytes(100_000, seed));
  const packs = createPackWriter(store);
  const { content, durable } = await saveFile(source, packs);
  packs.flush();
  await durable;
  return fileVersion(content);
}

Deno.test("a version placed where nothing was (ifAbsent) takes the name by a link: the written file itself, no temp left", async () => {
  await withDir(async (dir, store) => {
    const version = await savedVersion(dir, store, 41);
    const target = join(dir, "out", "data.bin");
    const counters = { chunksDownloaded: 0, bytesDownloaded: 0 };
    const staged = await restoreVersion(store, version, target, {
      counters,
      within: dir,
      ifAbsent: () => new Error("taken"),
    });
    assert.deepEqual(await Deno.readFile(target), await Deno.readFile(join(dir, "source-41.bin")));
    const placed = await Deno.lstat(target);
    assert.equal(placed.ino, staged.stat.ino);
    assert.equal(placed.nlink, 1);
    assert.equal(placed.mtime?.getTime(), version.mtime_ms);
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(join(dir, "out")))).map((e) => e.name),
      ["data.bin"],
    );
  });
});

/**
 * Restores a new version at `dir/data.bin` where nothing stood (`ifAbsent`), `meanwhile` making
 * something there between the caller's last check and the placing.
 */
async function placedAfter(
  dir: string,
  store: ObjectStore,
  seed: number,
  meanwhile: (target: string) => Promise<void>,
): Promise<void> {
  const version = await savedVersion(dir, store, seed);
  const target = join(dir, "data.bin");
  await restoreVersion(store, version, target, {
    counters: { chunksDownloaded: 0, bytesDownloaded: 0 },
    within: dir,
    beforeReplace: () => meanwhile(target),
    ifAbsent: () => new Error("taken meanwhile"),
  });
}

Deno.test("a name taken after the last check before placing (ifAbsent) is not replaced: what was saved there stays", async () => {
  await withDir(async (dir, store) => {
    // The user saves a file there in the moment between the caller's check and the placing.
    await assert.rejects(
      placedAfter(dir, store, 42, (target) => Deno.writeTextFile(target, "saved meanwhile\n")),
      /taken meanwhile/,
    );
    assert.equal(await Deno.readTextFile(join(dir, "data.bin")), "saved meanwhile\n");
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(),
      ["data.bin", "source-42.bin", "store"],
      "the staged copy is removed",
    );
  });
});

Deno.test("a folder made at the name before placing (ifAbsent) is kept, and the path reported blocked", async () => {
  await withDir(async (dir, store) => {
    await assert.rejects(
      placedAfter(
        dir,
        store,
        43,
        (target) => Deno.mkdir(join(target, "inside"), { recursive: true }),
      ),
      (err: unknown) => err instanceof TcfsError && err.kind === "path_blocked",
    );
    assert.ok((await Deno.lstat(join(dir, "data.bin", "inside"))).isDirectory);
  });
});

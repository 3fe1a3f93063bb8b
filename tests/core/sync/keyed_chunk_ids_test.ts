import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore, type MemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice, type SyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import type { FleetKeys } from "../../../core/crypto/fleet_keys.ts";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import { chunkStream } from "../../../core/chunking/fastcdc.ts";
import { fileDigest } from "../../../core/remote/file_digest.ts";
import type { FileVersion } from "../../../core/remote/file_version.ts";
import { namespaceHeads } from "../../../core/sync/sync_context.ts";
import { syncStatus } from "../../../core/sync/sync_status.ts";
import { PACKS_PREFIX } from "../../../core/remote/remote_keys.ts";
import { decodeSegment, encodeJournalObject } from "../../../core/journal/journal_codec.ts";
import { readVerifiedContent } from "../../../core/sync/verified_content.ts";
import { sealedVersion } from "../../support/sealed_version.ts";
import type { DamagedContentError } from "../../../core/sync/verified_content.ts";
import { testFleetKeys } from "../../support/test_fleet_keys.ts";

async function fleetKeys(device: SyncDevice): Promise<FleetKeys> {
  return await testFleetKeys(device.ctx.device.id);
}

/** The files every test writes: one of many chunks, one small, one empty. */
async function writeTree(root: string): Promise<void> {
  await Deno.mkdir(join(root, "docs"), { recursive: true });
  await Deno.writeFile(join(root, "docs", "big.bin"), randomBytes(3 * 1024 * 1024, 7));
  await Deno.writeTextFile(join(root, "small.txt"), "a small file\n");
  await Deno.writeFile(join(root, "empty"), new Uint8Array());
}

async function copyTree(from: string, to: string): Promise<void> {
  for (const rel of ["docs/big.bin", "small.txt", "empty"]) {
    await Deno.mkdir(join(to, rel, ".."), { recursive: true });
    await Deno.copyFile(join(from, rel), join(to, rel));
  }
}

/** The file's chunks, as a push cuts them. */
async function chunksOf(path: string): Promise<Uint8Array[]> {
  using file = await Deno.open(path);
  const chunks: Uint8Array[] = [];
  for await (const chunk of chunkStream(file)) chunks.push(chunk.slice());
  return chunks;
}

async function headVersions(device: SyncDevice): Promise<Map<string, FileVersion>> {
  const { byPath, unreadable } = await namespaceHeads(device.ctx, () => true);
  assert.deepEqual(unreadable, []);
  return new Map([...byPath].map(([path, { heads }]) => {
    assert.equal(heads.length, 1, `${path} has one head`);
    return [path, heads[0].version];
  }));
}

function packCount(store: MemoryStore): number {
  return [...store.objects.keys()].filter((k) => k.startsWith(PACKS_PREFIX)).length;
}

Deno.test("in a sealed namespace every chunk id is keyed BLAKE3 (format 3), none the plain BLAKE3 of its bytes", async () => {
  const tmp = await makeScopedTempDir("tcfs-keyed-ids-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  const keys = a.ctx.keys = await fleetKeys(a);
  await writeTree(a.root);
  await a.pushAll();

  const versions = await headVersions(a);
  assert.equal(versions.size, 3);
  for (const [path, version] of versions) {
    assert.equal(version.format, 3, `${path} is format 3`);
    const chunks = await chunksOf(join(a.root, path));
    assert.equal(version.chunks.length, chunks.length, path);
    for (const [i, ref] of version.chunks.entries()) {
      assert.notEqual(ref.id, await blake3Hex(chunks[i]), `${path} chunk ${i} is not plain`);
      assert.equal(ref.id, await blake3Hex(chunks[i], keys.idKey), `${path} chunk ${i} is keyed`);
    }
    assert.equal(version.blake3, await fileDigest(version.chunks), `${path}'s digest`);
  }
  assert.ok(versions.get("docs/big.bin")!.chunks.length > 1);
  await tmp.remove();
});

Deno.test("a plaintext namespace still writes format 2 with plain BLAKE3 chunk ids", async () => {
  const tmp = await makeScopedTempDir("tcfs-plain-ids-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  await writeTree(a.root);
  await a.pushAll();
  for (const [path, version] of await headVersions(a)) {
    assert.equal(version.format, 2, `${path} is format 2`);
    const chunks = await chunksOf(join(a.root, path));
    for (const [i, ref] of version.chunks.entries()) {
      assert.equal(ref.id, await blake3Hex(chunks[i]), `${path} chunk ${i} is plain`);
    }
  }
  await tmp.remove();
});

Deno.test("sealed: the same files on a second device dedup (no upload) and meet no conflict, pushed or pulled first", async () => {
  const tmp = await makeScopedTempDir("tcfs-keyed-dedup-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  using c = await openSyncDevice(tmp.path, "gamma", store);
  a.ctx.keys = b.ctx.keys = c.ctx.keys = await fleetKeys(a);
  await writeTree(a.root);
  await copyTree(a.root, b.root);
  await copyTree(a.root, c.root);
  const first = await a.pushAll();
  assert.ok(first.chunks_uploaded > 1);
  const packs = packCount(store);

  // b pushes the same tree: its content is a's, and nothing goes up again.
  const pushed = await b.pushAll();
  assert.deepEqual(pushed.conflicts, []);
  assert.equal(pushed.chunks_uploaded, 0);
  assert.equal(packCount(store), packs);
  // c pulls first, onto the same tree: adopted as it is.
  const pulled = await c.pullAll();
  assert.deepEqual(pulled.conflicts, []);
  assert.deepEqual(pulled.failures, []);
  assert.equal(pulled.chunks_downloaded, 0);
  for (const device of [b, c]) {
    const rows = await syncStatus(device.ctx, {
      localPath: device.root,
      remoteRel: "",
      excludes: [],
    });
    assert.deepEqual(rows.map((r) => r.state), ["synced", "synced", "synced"]);
    assert.equal((await device.pushAll()).chunks_uploaded, 0);
  }
  assert.equal(packCount(store), packs);
  await tmp.remove();
});

/** What `tcfs store encrypt` does to the journal: every segment sealed as it is. */
async function sealJournal(store: MemoryStore, keys: FleetKeys): Promise<void> {
  for (const [key, body] of store.objects) {
    if (!key.includes("/j/")) continue;
    const segment = await decodeSegment(body, key, undefined);
    store.objects.set(key, await encodeJournalObject(segment, key, keys));
  }
}

Deno.test("after a namespace is sealed, devices holding the heads' content meet no conflict", async () => {
  const tmp = await makeScopedTempDir("tcfs-keyed-after-encrypt-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  using c = await openSyncDevice(tmp.path, "gamma", store);
  await writeTree(a.root);
  await a.pushAll();
  await b.pullAll();

  const keys = await fleetKeys(a);
  await sealJournal(store, keys);
  a.ctx.keys = b.ctx.keys = c.ctx.keys = keys;
  // A sealed edit of the small file; the big one keeps its plaintext version (format 2).
  await Deno.writeTextFile(join(a.root, "small.txt"), "edited once sealed\n");
  await a.pushAll();
  const versions = await headVersions(a);
  assert.equal(versions.get("small.txt")!.format, 3);
  assert.equal(versions.get("docs/big.bin")!.format, 2);

  // c holds exactly the heads' content without ever having synced: both kinds are adopted.
  await copyTree(a.root, c.root);
  const adopted = await c.pullAll();
  assert.deepEqual(adopted.conflicts, []);
  assert.deepEqual(adopted.failures, []);
  assert.equal(adopted.chunks_downloaded, 0);

  // b synced before the sealing (plain digests recorded) and touched its big file since.
  const later = new Date(Date.now() + 60_000);
  await Deno.utime(join(b.root, "docs", "big.bin"), later, later);
  const pulled = await b.pullAll();
  assert.deepEqual(pulled.conflicts, []);
  assert.deepEqual(pulled.kept_modified, []);
  assert.equal(await Deno.readTextFile(join(b.root, "small.txt")), "edited once sealed\n");
  for (const device of [b, c]) {
    const rows = await syncStatus(device.ctx, {
      localPath: device.root,
      remoteRel: "",
      excludes: [],
    });
    assert.deepEqual(rows.map((r) => [r.path, r.state]), [
      ["docs/big.bin", "synced"],
      ["empty", "synced"],
      ["small.txt", "synced"],
    ]);
  }
  // b's touched file goes up again, now sealed under keyed ids; nothing meets a conflict.
  const pushed = await b.pushAll();
  assert.deepEqual(pushed.conflicts, []);
  const big = (await headVersions(b)).get("docs/big.bin")!;
  assert.equal(big.format, 3);
  const chunks = await chunksOf(join(b.root, "docs", "big.bin"));
  assert.equal(big.chunks[0].id, await blake3Hex(chunks[0], keys.idKey));
  assert.deepEqual((await c.pullAll()).conflicts, []);
  assert.deepEqual((await a.pullAll()).conflicts, []);
  await tmp.remove();
});

Deno.test("a format 3 chunk whose bytes match its plain BLAKE3 but not its keyed id is refused", async () => {
  const tmp = await makeScopedTempDir("tcfs-keyed-mismatch-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  const keys = a.ctx.keys = await fleetKeys(a);
  const bytes = new TextEncoder().encode("a chunk named by its plain hash\n");
  const plainId = await blake3Hex(bytes);
  const { version } = await sealedVersion(store, keys, "x.txt", plainId, bytes);
  const counters = { chunksDownloaded: 0, bytesDownloaded: 0 };
  await assert.rejects(
    readVerifiedContent(store, version, { counters, keys }, () => Promise.resolve()),
    (err: DamagedContentError) => {
      assert.equal(err.kind, "corrupt_chunk");
      assert.match(err.message, /BLAKE3 mismatch/);
      return true;
    },
  );
  // The same chunk read as format 2 (plain ids) checks out.
  await readVerifiedContent(
    store,
    { ...version, format: 2 },
    { counters, keys },
    () => Promise.resolve(),
  );
  // Without the fleet's keys a format 3 version is not read at all.
  await assert.rejects(
    readVerifiedContent(store, version, { counters }, () => Promise.resolve()),
    (err: DamagedContentError) => err.kind === "not_approved",
  );
  await tmp.remove();
});

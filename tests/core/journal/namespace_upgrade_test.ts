import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore, type MemoryStore } from "../../support/memory_store.ts";
import { type StoreOperation, withFaults } from "../../support/faulty_store.ts";
import { openSyncDevice, type SyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { catchUp } from "../../../core/journal/journal_catch_up.ts";
import { type FoldedPath, foldVersion } from "../../../core/journal/head_fold.ts";
import { foldedNamespace } from "../../../core/journal/folded_versions.ts";
import { FENCE_DIGEST } from "../../../core/journal/legacy_versions.ts";
import type { StoredVersion } from "../../../core/journal/stored_version.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";
import {
  encodeFileVersion,
  type FileVersion,
  parseFileVersion,
  type VersionKind,
} from "../../../core/remote/file_version.ts";
import { smallFileDigest } from "../../../core/remote/file_digest.ts";
import { encodeBase64 } from "../../../core/encoding/base64.ts";
import {
  journalMarkerKey,
  namespaceVersionsPrefix,
  parseCheckpointKey,
  versionKey,
} from "../../../core/remote/remote_keys.ts";
import { TcfsError } from "../../../core/errors.ts";
import type { VectorClock } from "../../../core/vclock/vector_clock.ts";

const LEGACY_PATHS = 240;
/** Devices that ran the old tcfs. */
const X = "11111111-1111-4111-8111-111111111111";
const Y = "22222222-2222-4222-8222-222222222222";

/** A version as the old tcfs stored it: one object under its own key. */
async function legacyVersion(
  path: string,
  author: string,
  vclock: VectorClock,
  text: string,
  kind: VersionKind = "file",
): Promise<StoredVersion> {
  const bytes = new TextEncoder().encode(kind === "file" ? text : "");
  const version: FileVersion = {
    format: 2,
    path,
    kind,
    size: bytes.length,
    mode: 0o644,
    mtime_ms: 1_700_000_000_000,
    blake3: kind === "file" ? await smallFileDigest(bytes) : "",
    chunks: [],
    ...(kind === "file" ? { inline: encodeBase64(bytes) } : {}),
    vclock,
    author,
    author_name: author === X ? "old-x" : "old-y",
    written_at: "2025-06-01T00:00:00.000Z",
  };
  return { key: await versionKey("default", path, author, vclock[author]), version };
}

/** Old-layout history: single versions, edits, conflicts and deletions. */
async function legacyHistory(): Promise<StoredVersion[]> {
  const versions: StoredVersion[] = [];
  for (let i = 0; i < LEGACY_PATHS; i++) {
    const path = `old/${i}.txt`;
    versions.push(await legacyVersion(path, X, { [X]: 1 }, `old ${i}\n`));
    if (i % 6 === 0) {
      versions.push(await legacyVersion(path, Y, { [X]: 1, [Y]: 1 }, `old ${i}, edited\n`));
    }
    if (i % 6 === 1) versions.push(await legacyVersion(path, Y, { [Y]: 1 }, `old ${i} on Y\n`));
    if (i % 6 === 2) {
      versions.push(await legacyVersion(path, Y, { [X]: 1, [Y]: 1 }, "", "deleted"));
    }
  }
  return versions;
}

/** Path → heads and kept keys, folded from `versions`. */
function expectedFold(versions: StoredVersion[]): Map<string, string> {
  const byPath = new Map<string, FoldedPath>();
  for (const v of versions) {
    const path = byPath.get(v.version.path) ?? { heads: [], kept: [] };
    byPath.set(v.version.path, foldVersion(path, v) ?? path);
  }
  return new Map([...byPath].map(([path, p]) => [path, keysOf(p)]));
}

function keysOf(p: FoldedPath): string {
  return JSON.stringify({
    heads: p.heads.map((v) => v.key).sort(),
    kept: p.kept.map((v) => v.key).sort(),
  });
}

/** Path → heads and kept keys as `device` folded them. */
function foldOf(device: SyncDevice): Map<string, string> {
  const folded = foldedNamespace(device.ctx.state, trackedNamespace(device.ctx), () => true);
  return new Map([...folded].map(([path, p]) => [path, keysOf(p)]));
}

/** Where the upgrading device is held while the others work. */
interface Schedule {
  name: string;
  op: StoreOperation;
  keyPrefix: string;
  /** Whether the old tcfs's straggler is still in the old layout afterwards. */
  stragglerStays: boolean;
}

const SCHEDULES: Schedule[] = [
  {
    name: "between its base checkpoint and its marker (another device upgrades first)",
    op: "putConditional",
    keyPrefix: journalMarkerKey("default"),
    stragglerStays: false,
  },
  {
    name: "between its marker and the removal of the old layout",
    op: "delete",
    keyPrefix: namespaceVersionsPrefix("default"),
    stragglerStays: true,
  },
];

for (const schedule of SCHEDULES) {
  Deno.test(`upgrade held ${schedule.name}, while a new device pushes and an old one writes: nothing lost`, async () => {
    const tmp = await makeScopedTempDir("tcfs-upgrade-");
    const memory: MemoryStore = createMemoryStore();
    const legacy = await legacyHistory();
    for (const v of legacy) memory.objects.set(v.key, encodeFileVersion(v.version));
    const held = withFaults(memory);
    using a = await openSyncDevice(tmp.path, "alpha", held);
    using b = await openSyncDevice(tmp.path, "beta", memory);
    // A's checkpoints sort after B's: a reader that takes the last listed one meets A's first.
    a.ctx.device.id = "ffffffff-ffff-4fff-8fff-ffffffffffff";
    b.ctx.device.id = "00000000-0000-4000-8000-000000000000";
    try {
      const release = Promise.withResolvers<void>();
      const fired = held.inject({
        op: schedule.op,
        keyPrefix: schedule.keyPrefix,
        action: "delay",
        until: release.promise,
      });
      const upgrading = a.pullAll();
      for (let i = 0; fired() === 0; i++) {
        assert.ok(i < 2000, "the upgrade never reached its hold");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }

      // An old tcfs edits a path, and a new device pushes new files and edits them.
      const straggler = await legacyVersion("old/5.txt", X, { [X]: 2 }, "straggler\n");
      await memory.put(straggler.key, encodeFileVersion(straggler.version));
      await Deno.mkdir(join(b.root, "new"));
      for (let i = 0; i < 30; i++) {
        await Deno.writeTextFile(join(b.root, `new/${i}.txt`), `new ${i}\n`);
      }
      assert.equal((await b.pushAll()).files, 30);
      for (let i = 0; i < 10; i++) {
        await Deno.writeTextFile(join(b.root, `new/${i}.txt`), `new ${i}, edited\n`);
      }
      assert.equal((await b.pushAll()).files, 10);
      release.resolve();
      assert.deepEqual((await upgrading).failures, []);

      // One marker, naming the one base checkpoint left.
      const marker = JSON.parse(
        new TextDecoder().decode(memory.objects.get(journalMarkerKey("default"))),
      );
      assert.equal(marker.journal, 1);
      const checkpoints = [...memory.objects.keys()].filter(parseCheckpointKey);
      assert.deepEqual(checkpoints, [marker.base]);
      assert.equal(parseCheckpointKey(marker.base)!.covered, 0);
      // The old layout holds the fence, and the straggler if it came after the upgrade read.
      const left = [...memory.objects.keys()].filter((k) =>
        k.startsWith(namespaceVersionsPrefix("default"))
      ).sort();
      const fence = left.find((k) => k.includes(`/${FENCE_DIGEST}/`))!;
      assert.ok(fence, left.join("\n"));
      assert.deepEqual(left, [fence, ...(schedule.stragglerStays ? [straggler.key] : [])].sort());
      // An old tcfs stops at the fence, told which release it needs.
      assert.throws(
        () => parseFileVersion(memory.objects.get(fence)!, fence),
        (err) =>
          err instanceof TcfsError && err.kind === "corrupt_version" && /0\.8\.0/.test(err.message),
      );

      // A fresh device, and both devices that took part, see every version.
      const expected = expectedFold([...legacy, straggler]);
      using c = await openSyncDevice(tmp.path, "gamma", memory);
      for (const device of [c, a, b]) assert.deepEqual(await catchUp(device.ctx), []);
      const folded = foldOf(c);
      for (const [path, keys] of expected) assert.equal(folded.get(path), keys, path);
      const newPaths = [...folded.keys()].filter((p) => p.startsWith("new/"));
      assert.equal(newPaths.length, 30);
      assert.equal(folded.size, expected.size + 30);
      assert.deepEqual(foldOf(a), folded, "the upgrading device");
      assert.deepEqual(foldOf(b), folded, "the pushing device");

      const pulled = await c.pullAll();
      assert.deepEqual(pulled.failures, []);
      assert.equal(await Deno.readTextFile(join(c.root, "old/5.txt")), "straggler\n");
      assert.equal(await Deno.readTextFile(join(c.root, "old/6.txt")), "old 6, edited\n");
      await assert.rejects(Deno.stat(join(c.root, "old/2.txt")), Deno.errors.NotFound);
      assert.equal(await Deno.readTextFile(join(c.root, "new/3.txt")), "new 3, edited\n");
      assert.equal(await Deno.readTextFile(join(c.root, "new/13.txt")), "new 13\n");
    } finally {
      await tmp.remove();
    }
  });
}

Deno.test("an upgrade keeps what a since-revoked device superseded: readers that revoke it see the old head", async () => {
  const tmp = await makeScopedTempDir("tcfs-upgrade-revoked-");
  const memory = createMemoryStore();
  // Y is revoked at `revokedAt`; it went on writing with the old tcfs after that.
  const revokedAt = "2025-06-15T00:00:00.000Z";
  const good = await legacyVersion("p.txt", X, { [X]: 1 }, "good\n");
  const late = await legacyVersion("p.txt", Y, { [X]: 1, [Y]: 2 }, "written after revocation\n");
  late.version.written_at = "2025-07-01T00:00:00.000Z";
  const early = await legacyVersion("q.txt", Y, { [Y]: 1 }, "written before revocation\n");
  for (const v of [good, late, early]) memory.objects.set(v.key, encodeFileVersion(v.version));
  using a = await openSyncDevice(tmp.path, "alpha", memory);
  try {
    // A device that does not know of the revocation upgrades: the late version is a head to it.
    assert.deepEqual(await catchUp(a.ctx), []);
    assert.ok(memory.objects.get(journalMarkerKey("default")));
    assert.deepEqual(foldOf(a).get("p.txt"), JSON.stringify({ heads: [late.key], kept: [] }));
    assert.equal(memory.objects.has(good.key), false, "the old layout was retired");

    using c = await openSyncDevice(tmp.path, "gamma", memory);
    c.ctx.revoked = new Map([[Y, revokedAt]]);
    assert.deepEqual(await catchUp(c.ctx), []);
    assert.deepEqual(foldOf(c).get("p.txt"), JSON.stringify({ heads: [good.key], kept: [] }));
    assert.deepEqual(foldOf(c).get("q.txt"), JSON.stringify({ heads: [early.key], kept: [] }));
    assert.deepEqual((await c.pullAll()).failures, []);
    assert.equal(await Deno.readTextFile(join(c.root, "p.txt")), "good\n");
    assert.equal(await Deno.readTextFile(join(c.root, "q.txt")), "written before revocation\n");
  } finally {
    await tmp.remove();
  }
});

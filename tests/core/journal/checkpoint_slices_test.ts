import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore, type MemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice, type SyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { catchUp } from "../../../core/journal/journal_catch_up.ts";
import { CHECKPOINT_SLICE_VERSIONS } from "../../../core/journal/checkpoint_reader.ts";
import {
  type Checkpoint,
  decodeCheckpoint,
  encodeJournalObject,
  encodeJournalText,
} from "../../../core/journal/journal_codec.ts";
import {
  everyFoldedVersion,
  foldIn,
  journalCursors,
  storedVersion,
} from "../../../core/journal/folded_versions.ts";
import { StateDb } from "../../../core/state/state_db.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";
import { parseCheckpointKey, parseSegmentKey } from "../../../core/remote/remote_keys.ts";
import { testFleetKeys } from "../../support/test_fleet_keys.ts";

/** Every version `state` folded for `ns` (heads, kept, history) and its cursors, as text. */
function foldText(state: StateDb, ns: string): string {
  return JSON.stringify({
    versions: [...everyFoldedVersion(state, ns, () => true)],
    cursors: [...journalCursors(state, ns)].sort(),
  });
}

/**
 * A sealed namespace whose one checkpoint holds more than two slices of versions, with edits
 * (history) and a deletion (kept content) among them; only the checkpoint covers the segments.
 */
async function checkpointedNamespace(
  tmp: string,
): Promise<{ store: MemoryStore; a: SyncDevice; key: string; checkpoint: Checkpoint }> {
  const store = createMemoryStore();
  const a = await openSyncDevice(tmp, "alpha", store);
  a.ctx.keys = await testFleetKeys(a.ctx.device.id);
  const files = 2 * CHECKPOINT_SLICE_VERSIONS + 100;
  for (let i = 0; i < files; i++) {
    await Deno.writeTextFile(join(a.root, `f${i % 7}-${i}.txt`), `file ${i}\n`);
  }
  await a.pushAll();
  for (let i = 0; i < files; i += 97) {
    await Deno.writeTextFile(join(a.root, `f${i % 7}-${i}.txt`), `file ${i}, edited\n`);
  }
  await Deno.remove(join(a.root, "f0-0.txt"));
  Deno.env.set("TCFS_CHECKPOINT_EVERY", "1");
  try {
    await a.pushAll();
  } finally {
    Deno.env.delete("TCFS_CHECKPOINT_EVERY");
  }
  const checkpoints = [...store.objects.keys()].filter(parseCheckpointKey);
  assert.equal(checkpoints.length, 1, checkpoints.join("\n"));
  const key = checkpoints[0];
  return {
    store,
    a,
    key,
    checkpoint: await decodeCheckpoint(store.objects.get(key)!, key, a.ctx.keys),
  };
}

/** A copy of `store` without its segments: only its checkpoints hold the versions. */
function withoutSegments(store: MemoryStore, location: string): MemoryStore {
  const copy = createMemoryStore(location);
  for (const [key, body] of store.objects) if (!parseSegmentKey(key)) copy.objects.set(key, body);
  return copy;
}

Deno.test("a checkpoint folded a slice at a time gives the fold that parsing it whole gave", async () => {
  const tmp = await makeScopedTempDir("tcfs-checkpoint-slices-");
  const { store, a, key, checkpoint } = await checkpointedNamespace(tmp.path);
  using _a = a;
  try {
    assert.ok(checkpoint.versions.length > 2 * CHECKPOINT_SLICE_VERSIONS);
    assert.ok(checkpoint.versions.some((v) => v.path === "f0-0.txt" && v.kind === "deleted"));

    // The fold as a new device made it before: the whole checkpoint parsed, folded at once.
    const whole = await StateDb.open(join(tmp.path, "whole.db"));
    const ns = trackedNamespace(a.ctx);
    foldIn(
      whole,
      ns,
      await Promise.all(checkpoint.versions.map((v) => storedVersion("default", v))),
      new Map(Object.entries(checkpoint.cursors)),
    );

    // The same checkpoint with its versions first, its text spread out: still the same fold.
    const { versions, ...fields } = checkpoint;
    const reordered = JSON.stringify({ versions, ...fields }, null, 2);
    const elsewhere = withoutSegments(store, "memory://reordered");
    elsewhere.objects.set(
      key,
      await encodeJournalText(new TextEncoder().encode(reordered), key, a.ctx.keys),
    );

    for (const source of [store, elsewhere]) {
      using c = await openSyncDevice(tmp.path, `gamma-${source.location.slice(9)}`, source);
      c.ctx.keys = a.ctx.keys;
      c.ctx.device.id = a.ctx.device.id; // its own cursor, as in the whole fold
      assert.deepEqual(await catchUp(c.ctx), []);
      const [got, want] = [foldText(c.ctx.state, trackedNamespace(c.ctx)), foldText(whole, ns)];
      // Not assert.equal: its diff of two texts this long takes minutes to print.
      assert.ok(got === want, `the folds differ (${got.length} and ${want.length} bytes)`);
    }
    whole.close();
  } finally {
    await tmp.remove();
  }
});

Deno.test("a checkpoint damaged past its first slices, or altered under its seal, folds nothing", async () => {
  const tmp = await makeScopedTempDir("tcfs-checkpoint-slices-damaged-");
  const { store, a, key, checkpoint } = await checkpointedNamespace(tmp.path);
  using _a = a;
  try {
    const last = checkpoint.versions.length - 1;
    const badVersion = structuredClone(checkpoint);
    badVersion.versions[last].vclock = {};
    const altered = store.objects.get(key)!.slice();
    altered[Math.floor(altered.length / 2)] ^= 0x01;
    const damages: [string, Uint8Array, RegExp][] = [
      [
        "bad version",
        await encodeJournalObject(badVersion, key, a.ctx.keys),
        new RegExp(`version ${last + 1}\\).*no counter of its author`),
      ],
      ["altered", altered, /fails authentication/],
    ];
    for (const [name, body, why] of damages) {
      // Only the checkpoint holds the versions: whatever of it were committed would show.
      const damaged = withoutSegments(store, `memory://${name.replace(" ", "-")}`);
      damaged.objects.set(key, body);
      using d = await openSyncDevice(tmp.path, `delta-${name.replace(" ", "-")}`, damaged);
      d.ctx.keys = a.ctx.keys;
      const unreadable = await catchUp(d.ctx);
      assert.equal(unreadable.length, 1, unreadable.map((e) => e.message).join("\n"));
      assert.equal(unreadable[0].kind, "corrupt_journal");
      assert.ok(unreadable[0].message.includes(key), unreadable[0].message);
      assert.match(unreadable[0].message, why);
      const ns = trackedNamespace(d.ctx);
      // A count: a failing deepEqual of thousands of versions takes minutes to print.
      assert.equal([...everyFoldedVersion(d.ctx.state, ns, () => true)].length, 0, name);
      assert.deepEqual([...journalCursors(d.ctx.state, ns)], [[d.ctx.device.id, 0]], name);
    }
  } finally {
    await tmp.remove();
  }
});

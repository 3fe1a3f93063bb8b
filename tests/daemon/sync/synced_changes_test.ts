import assert from "node:assert/strict";
import type { TrackedEntry } from "../../../core/state/state_db.ts";
import { syncedChanges, trackedMarks } from "../../../daemon/sync/synced_changes.ts";

function tracked(path: string, key: string, kind: TrackedEntry["kind"] = "file"): TrackedEntry {
  return {
    namespace: "default",
    path,
    localPath: `/sync/${path}`,
    kind,
    size: 1,
    mtimeMs: 1,
    ino: 1,
    mode: 0o644,
    blake3: "b",
    racy: false,
    baseVclock: { me: Number(key.replace(/\D/g, "") || 0) },
    baseKey: key,
    syncedAt: "2026-11-26T00:00:00Z",
  };
}

Deno.test("new and changed versions are syncs, tombstones are deletions, untouched paths are nothing", () => {
  const before = trackedMarks([
    tracked("same.txt", "k1"),
    tracked("edit.txt", "k2"),
    tracked("gone.txt", "k3"),
  ]);
  const after = [
    tracked("same.txt", "k1"),
    tracked("edit.txt", "k4"),
    tracked("gone.txt", "k5", "deleted"),
    tracked("new.txt", "k6"),
  ];
  assert.deepEqual(
    syncedChanges(before, after).map((c) => [c.type, c.path, c.version_key]),
    [["file_synced", "edit.txt", "k4"], ["file_deleted", "gone.txt", "k5"], [
      "file_synced",
      "new.txt",
      "k6",
    ]],
  );
});

Deno.test("a deletion and a sync that a watched rename explains become one rename", () => {
  const before = trackedMarks([
    tracked("a.txt", "k1"),
    tracked("dir/x", "k2"),
    tracked("dir/y", "k3"),
  ]);
  const after = [
    tracked("a.txt", "k4", "deleted"),
    tracked("b.txt", "k5"),
    tracked("dir/x", "k6", "deleted"),
    tracked("dir/y", "k7", "deleted"),
    tracked("moved/x", "k8"),
    tracked("moved/y", "k9"),
  ];
  assert.deepEqual(
    syncedChanges(before, after, [["a.txt", "b.txt"], ["dir", "moved"]])
      .map((c) => [c.type, c.old_path ?? null, c.path]),
    [
      ["file_renamed", "a.txt", "b.txt"],
      ["file_renamed", "dir/x", "moved/x"],
      ["file_renamed", "dir/y", "moved/y"],
    ],
  );
  // Without the rename seen, the same outcome is a deletion and a new file.
  assert.deepEqual(
    syncedChanges(before, after.slice(0, 2)).map((c) => c.type),
    ["file_deleted", "file_synced"],
  );
});

Deno.test("a path deleted before and still deleted is not announced again", () => {
  const before = trackedMarks([tracked("old.txt", "k1", "deleted")]);
  assert.deepEqual(syncedChanges(before, [tracked("old.txt", "k1", "deleted")]), []);
  // A rename whose source was not tracked (an editor's temp file) is just a sync.
  assert.deepEqual(
    syncedChanges(new Map(), [tracked("doc.txt", "k2")], [[".doc.txt.swp", "doc.txt"]]).map((c) =>
      c.type
    ),
    ["file_synced"],
  );
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { PAGE_ROWS, StateDb, type TrackedEntry } from "../../../core/state/state_db.ts";
import { comparePaths } from "../../../core/paths/path_order.ts";
import { sampleTracked } from "../../support/tracked_entry.ts";

function tracked(path: string, baseKey?: string): TrackedEntry {
  return sampleTracked(path, baseKey === undefined ? {} : { baseKey });
}

/** A state database in a fresh temp dir, removed at the end. */
async function withStatePath(work: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-state-" });
  try {
    await work(join(dir, "state.db"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("a tracked row is read back at once and survives close and reopen", async () => {
  await withStatePath(async (path) => {
    const entry = tracked("docs/a.txt");
    // A row has every column: an absent target reads back as undefined.
    const stored = { ...entry, target: undefined };
    const state = await StateDb.open(path);
    state.putTracked(entry);
    assert.deepEqual(state.getTracked(entry.namespace, "docs/a.txt"), stored);
    assert.deepEqual(state.listTracked(entry.namespace, "docs"), [stored]);
    state.close();
    const reopened = await StateDb.open(path);
    assert.deepEqual(reopened.getTracked(entry.namespace, "docs/a.txt"), stored);
    reopened.close();
  });
});

Deno.test("the rows below a prefix are the prefix's own and its folder's, not its siblings'", async () => {
  await withStatePath(async (path) => {
    const state = await StateDb.open(path);
    const paths = [
      "d",
      "d-b",
      "d.txt",
      "d/",
      "d/e/g",
      "d/f.txt",
      "d0",
      "dd",
      "c",
      "📁",
      "📁.txt",
      "📁/a",
      "📁/b/c",
      "📁x",
    ];
    for (const p of paths) state.putTracked(tracked(p));
    const ns = tracked("").namespace;
    const below = (prefix: string) => state.listTracked(ns, prefix).map((t) => t.path);
    assert.deepEqual(below("d"), ["d", "d/", "d/e/g", "d/f.txt"]);
    assert.deepEqual(below("d/e"), ["d/e/g"]);
    assert.deepEqual(below("d.txt"), ["d.txt"]);
    // Outside the BMP: the prefix's length differs between JavaScript and SQLite.
    assert.deepEqual(below("📁"), ["📁", "📁/a", "📁/b/c"]);
    assert.deepEqual(below("missing"), []);
    state.close();
  });
});

Deno.test("the files synced from a sync root named with an emoji are found, its sibling's not", async () => {
  await withStatePath(async (path) => {
    const state = await StateDb.open(path);
    const at = (localPath: string, rel: string, kind = "file") =>
      state.putTracked({ ...tracked(rel), localPath, kind } as TrackedEntry);
    at("/home/ada/📁 Sync/a.txt", "a.txt");
    at("/home/ada/📁 Sync/𝒜/b.txt", "𝒜/b.txt");
    at("/home/ada/📁 Sync/gone.txt", "gone.txt", "deleted");
    at("/home/ada/📁 Sync2/c.txt", "c.txt");
    // The root's guards (an unmounted drive, a mass deletion) count on these.
    assert.deepEqual(state.syncedPathsFrom("/home/ada/📁 Sync").sort(), [
      "/home/ada/📁 Sync/a.txt",
      "/home/ada/📁 Sync/𝒜/b.txt",
    ]);
    state.putCachedVersion("ns/📁/v/1", new Uint8Array([1]));
    state.putCachedVersion("ns/📁/v/2", new Uint8Array([2]));
    state.pruneVersionCache("ns/📁/v/", new Set(["ns/📁/v/2"]));
    assert.equal(state.getCachedVersion("ns/📁/v/1"), undefined);
    assert.deepEqual(state.getCachedVersion("ns/📁/v/2"), new Uint8Array([2]));
    state.close();
  });
});

Deno.test("a pass over the tracked rows reads them all in path order, a page at a time, with held writes", async () => {
  await withStatePath(async (path) => {
    const state = await StateDb.open(path);
    const ns = tracked("x").namespace;
    try {
      const paths = [
        ...Array.from({ length: PAGE_ROWS * 2 + 5 }, (_, i) => `docs/f${i}`),
        "docs",
        "docs-x",
        "docs.txt",
        "zz",
      ];
      for (const p of paths) state.putTracked(tracked(p, `key-${p}`));
      // Held, not yet written: the pass sees them all the same.
      const stats = [...state.trackedStats(ns)];
      assert.deepEqual(stats.map((t) => t.path), [...paths].sort(comparePaths));
      const whole = tracked("docs/f7", "key-docs/f7");
      const { namespace: _, baseVclock: _v, syncedAt: _s, ...stat } = whole;
      assert.deepEqual(stats.find((t) => t.path === "docs/f7"), { ...stat, target: undefined });
      assert.deepEqual(
        [...state.trackedStats(ns, "docs")].map((t) => t.path),
        paths.filter((p) => p === "docs" || p.startsWith("docs/")).sort(comparePaths),
      );
    } finally {
      state.close();
    }
  });
});

Deno.test("the last write to a path wins within a batch and across batches", async () => {
  await withStatePath(async (path) => {
    const state = await StateDb.open(path);
    const ns = tracked("x").namespace;
    state.putTracked(tracked("gone-before-flush"));
    state.deleteTracked(ns, "gone-before-flush");
    state.putTracked(tracked("gone-after-flush"));
    state.flush();
    state.deleteTracked(ns, "gone-after-flush");
    state.putTracked(tracked("kept", "first"));
    state.putTracked(tracked("kept", "second"));
    assert.equal(state.getTracked(ns, "gone-before-flush"), undefined);
    assert.equal(state.getTracked(ns, "gone-after-flush"), undefined);
    state.close();
    const reopened = await StateDb.open(path);
    assert.deepEqual(reopened.listTracked(ns).map((t) => [t.path, t.baseKey]), [[
      "kept",
      "second",
    ]]);
    reopened.close();
  });
});

Deno.test("held writes reach other connections: a full batch at once, the rest shortly", async () => {
  await withStatePath(async (path) => {
    const writer = await StateDb.open(path);
    const reader = await StateDb.open(path);
    const ns = tracked("x").namespace;
    try {
      for (let i = 0; i < 300; i++) writer.putTracked(tracked(`f${i}`));
      const seenAtOnce = reader.listTracked(ns).length;
      assert.ok(seenAtOnce >= 256 && seenAtOnce < 300, `${seenAtOnce} rows visible`);
      await eventually(() => reader.listTracked(ns).length === 300);
      writer.putCachedVersion("ns/default/v/abc/k-1.json", new Uint8Array([1, 2, 3]));
      await eventually(() => reader.getCachedVersion("ns/default/v/abc/k-1.json") !== undefined);
      assert.deepEqual(
        reader.getCachedVersion("ns/default/v/abc/k-1.json"),
        new Uint8Array([1, 2, 3]),
      );
    } finally {
      writer.close();
      reader.close();
    }
  });
});

/** The paths tracked in a copy of the database file at `path` alone, taken now. */
async function pathsInFileAlone(path: string, namespace: string): Promise<string[]> {
  const copy = join(path, "..", "copy.db");
  await Deno.remove(copy).catch(() => {});
  await Deno.copyFile(path, copy);
  const reader = await StateDb.open(copy);
  try {
    return reader.listTracked(namespace).map((t) => t.path);
  } finally {
    reader.close();
  }
}

Deno.test("checkpointLog writes a window's rows into the database file itself, and a few rows not yet", async () => {
  await withStatePath(async (path) => {
    const writer = await StateDb.open(path);
    const ns = tracked("x").namespace;
    try {
      for (let i = 0; i < 10; i++) writer.putTracked(tracked(`few${i}`));
      await writer.checkpointLog();
      assert.deepEqual(await pathsInFileAlone(path, ns), [], "a few rows wait for the close");

      const many = [...Array(1000).keys()].map((i) => `many${i}`);
      for (const rel of many) writer.putTracked(tracked(rel));
      await writer.checkpointLog();
      // The database file without its log, taken while the writer still has it open.
      assert.deepEqual(
        await pathsInFileAlone(path, ns),
        [...many, ...[...Array(10).keys()].map((i) => `few${i}`)].sort(comparePaths),
      );
    } finally {
      writer.close();
    }
  });
});

Deno.test("pruning the version cache keeps only listed keys under the prefix", async () => {
  await withStatePath(async (path) => {
    const state = await StateDb.open(path);
    const body = new Uint8Array([9]);
    for (const key of ["ns/a/v/1", "ns/a/v/2", "ns/a/v/3", "ns/b/v/1"]) {
      state.putCachedVersion(key, body);
    }
    state.pruneVersionCache("ns/a/v/", new Set(["ns/a/v/2"]));
    state.close();
    const reopened = await StateDb.open(path);
    const cached = ["ns/a/v/1", "ns/a/v/2", "ns/a/v/3", "ns/b/v/1"]
      .filter((key) => reopened.getCachedVersion(key) !== undefined);
    assert.deepEqual(cached, ["ns/a/v/2", "ns/b/v/1"]);
    reopened.close();
  });
});

Deno.test("statement prepares each SQL text once per database", async () => {
  await withStatePath(async (path) => {
    const state = await StateDb.open(path);
    const sql = "SELECT value FROM meta WHERE key = ?";
    assert.equal(state.statement(sql), state.statement(sql));
    state.setMeta("k", "v");
    assert.deepEqual({ ...state.statement(sql).get("k") }, { value: "v" });
    state.close();
  });
});

Deno.test("a database from before racy rows marks the rows synced within a minute of their mtime racy", async () => {
  await withStatePath(async (path) => {
    const { DatabaseSync } = await import("node:sqlite");
    const old = new DatabaseSync(path);
    // The tracked table as tcfs 0.9 made it.
    old.exec(`CREATE TABLE tracked (
      namespace TEXT NOT NULL, path TEXT NOT NULL, local_path TEXT NOT NULL, kind TEXT NOT NULL,
      size INTEGER NOT NULL, mtime_ms REAL NOT NULL, ino INTEGER, mode INTEGER NOT NULL,
      blake3 TEXT NOT NULL, target TEXT, base_vclock TEXT NOT NULL, base_key TEXT NOT NULL,
      synced_at TEXT NOT NULL, PRIMARY KEY (namespace, path))`);
    const insert = old.prepare(
      "INSERT INTO tracked VALUES ('ns', ?, ?, 'file', 1, ?, 1, 420, 'b', NULL, '{}', 'k', ?)",
    );
    const syncedAt = Date.parse("2026-11-01T12:00:00.000Z");
    insert.run("edited-just-before.txt", "/s/a", syncedAt - 500, new Date(syncedAt).toISOString());
    insert.run("old.txt", "/s/b", syncedAt - 3_600_000, new Date(syncedAt).toISOString());
    old.close();

    const state = await StateDb.open(path);
    try {
      assert.equal(state.getTracked("ns", "edited-just-before.txt")!.racy, true);
      assert.equal(state.getTracked("ns", "old.txt")!.racy, false);
      assert.deepEqual([...state.trackedStats("ns")].map((t) => [t.path, t.racy]), [
        ["edited-just-before.txt", true],
        ["old.txt", false],
      ]);
      state.putTracked(tracked("new.txt"));
      assert.equal(state.getTracked(tracked("new.txt").namespace, "new.txt")!.racy, false);
    } finally {
      state.close();
    }
    // Opened again, nothing is added twice.
    (await StateDb.open(path)).close();
  });
});

Deno.test("a block of tracked rows is read together, held writes and deletions first", async () => {
  await withStatePath(async (path) => {
    const state = await StateDb.open(path);
    try {
      const [a, b, c] = ["a.txt", "b.txt", "c.txt"].map((p) => ({
        ...tracked(p),
        target: undefined,
      }));
      state.putTracked(a);
      state.putTracked(b);
      state.flush();
      state.putTracked({ ...a, size: 99 });
      state.deleteTracked(b.namespace, "b.txt");
      state.putTracked(c);
      const among = state.getTrackedAmong(a.namespace, ["a.txt", "b.txt", "c.txt", "d.txt"]);
      assert.deepEqual(among, new Map([["a.txt", { ...a, size: 99 }], ["c.txt", c]]));
      state.flush();
      assert.deepEqual(state.getTrackedAmong(a.namespace, ["c.txt", "a.txt"]), among);
    } finally {
      state.close();
    }
  });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { createFsStore } from "../../../core/store/fs_store.ts";
import { StateDb } from "../../../core/state/state_db.ts";
import type { SyncContext } from "../../../core/sync/sync_context.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";
import { push } from "../../../core/sync/push.ts";
import { pull } from "../../../core/sync/pull.ts";
import type { PullSummary, PushSummary } from "../../../core/sync/transfer_summary.ts";
import {
  type FilesystemFlusher,
  useFilesystemFlusher,
} from "../../../core/io/restore_durability.ts";
import { linuxSyncfs } from "../../../platform/linux_syncfs.ts";

/**
 * Two devices in one process on a directory store, each with its own state db and folder.
 * A power cut cannot be simulated here; what can be checked is the order that makes one
 * harmless: the directory holding the change is fsynced after the change and before the
 * state db records it.
 */
async function fleet(dir: string) {
  const store = createFsStore(join(dir, "store"));
  await store.ensureReady();
  const device = async (name: string): Promise<SyncContext> => ({
    store,
    state: await StateDb.open(join(dir, name, "state.db")),
    device: { id: crypto.randomUUID(), name },
    bucket: "tcfs",
    namespace: "default",
  });
  return { a: await device("a"), b: await device("b") };
}

/** Linux's syncfs flusher, running `before` ahead of each flush (a throw fails the flush). */
function syncfsAfter(before: () => Promise<void>): FilesystemFlusher {
  const syncfs = linuxSyncfs()!;
  return {
    open(at) {
      const handle = syncfs.open(at);
      return {
        async flush() {
          await before();
          await handle.flush();
        },
        close: () => handle.close(),
      };
    },
  };
}

/**
 * A test of two devices (`fleet`) in `dir` whose restores are flushed by syncfs, each flush
 * first running what the test last gave `beforeFlush`. Linux only.
 */
function syncfsTest(
  name: string,
  fn: (devices: {
    dir: string;
    a: SyncContext;
    b: SyncContext;
    beforeFlush: (run: () => Promise<void>) => void;
  }) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: Deno.build.os !== "linux",
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "tcfs-durable-" });
      const { a, b } = await fleet(dir);
      let before = () => Promise.resolve();
      useFilesystemFlusher(syncfsAfter(() => before()));
      try {
        await fn({ dir, a, b, beforeFlush: (run) => void (before = run) });
      } finally {
        useFilesystemFlusher(undefined);
        a.state.close();
        b.state.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

/** The names in `dir`, sorted. */
async function namesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

/** What was true each time a directory was opened to be fsynced. */
interface DirSync {
  dir: string;
  seen: unknown;
}

/** Runs `fn` with every read-only open of `dir` recorded (with `look()`'s view at that moment). */
async function watchDirSyncs<T>(
  dir: string,
  look: () => Promise<unknown>,
  fn: () => Promise<T>,
  failSync = false,
): Promise<{ result: T | Error; syncs: DirSync[] }> {
  const syncs: DirSync[] = [];
  const open = Deno.open;
  Deno.open = async (path, options) => {
    const file = await open(path, options);
    if (String(path) !== dir || options?.write) return file;
    const sync = file.sync.bind(file);
    file.sync = async () => {
      syncs.push({ dir, seen: await look() });
      if (failSync) throw new Error("EIO: the disk went away");
      await sync();
    };
    return file;
  };
  try {
    return { result: await fn().catch((err) => err as Error), syncs };
  } finally {
    Deno.open = open;
  }
}

/** Two devices (`fleet`) syncing `notes.txt` between their `Sync` folders, an fsync per change. */
interface NotesFleet {
  a: SyncContext;
  b: SyncContext;
  folderA: string;
  folderB: string;
  fileA: string;
  fileB: string;
  pushA(): Promise<PushSummary>;
  pullA(): Promise<PullSummary>;
  pushB(): Promise<PushSummary>;
  pullB(): Promise<PullSummary>;
}

/** A test of a {@linkcode NotesFleet} in a temp dir, removed at the end. */
function notesTest(name: string, fn: (fleet: NotesFleet) => Promise<void>): void {
  Deno.test(name, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tcfs-durable-" });
    const { a, b } = await fleet(dir);
    try {
      const [folderA, folderB] = [join(dir, "a", "Sync"), join(dir, "b", "Sync")];
      await Deno.mkdir(folderA, { recursive: true });
      await fn({
        a,
        b,
        folderA,
        folderB,
        fileA: join(folderA, "notes.txt"),
        fileB: join(folderB, "notes.txt"),
        pushA: () => push(a, { localPath: folderA, remoteRel: "", excludes: [] }),
        pullA: () => pull(a, { remoteRel: "", localTarget: folderA }),
        pushB: () => push(b, { localPath: folderB, remoteRel: "", excludes: [] }),
        pullB: () => pull(b, { remoteRel: "", localTarget: folderB }),
      });
    } finally {
      a.state.close();
      b.state.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

notesTest(
  "a pulled version and a pulled deletion are durable in their directory before the state db records them",
  async ({ b, fileA, fileB, folderB, pushA, pullB }) => {
    const row = () => b.state.getTracked(trackedNamespace(b), "notes.txt");
    const look = async () => ({
      content: await Deno.readTextFile(fileB).catch(() => "(none)"),
      recorded: row()?.kind === "deleted" ? "(deleted)" : row()?.size,
    });
    await Deno.writeTextFile(fileA, "v1\n");
    await pushA();
    await pullB();

    await Deno.writeTextFile(fileA, "version 2\n");
    await pushA();
    const update = await watchDirSyncs(folderB, look, pullB);
    assert.ok(!(update.result instanceof Error), String(update.result));
    // At the fsync the new file is in place and the state still records the old one (3 bytes).
    assert.deepEqual(update.syncs.map((s) => s.seen), [{ content: "version 2\n", recorded: 3 }]);
    assert.equal(row()?.size, 10);

    await Deno.remove(fileA);
    await pushA();
    const deletion = await watchDirSyncs(folderB, look, pullB);
    assert.ok(!(deletion.result instanceof Error), String(deletion.result));
    assert.deepEqual(deletion.syncs.map((s) => s.seen), [{ content: "(none)", recorded: 10 }]);
    assert.equal(row()?.kind, "deleted");
  },
);

notesTest(
  "an edit saved after a pulled file was renamed into place, before it was recorded, is no pulled version: the next push sends it",
  async ({ fileA, fileB, folderB, pushA, pullA, pushB, pullB }) => {
    await Deno.writeTextFile(fileA, "v1\n");
    await pushA();
    await pullB();

    await Deno.writeTextFile(fileA, "version 2\n");
    await pushA();
    // The user saves over the pulled file while its folder is flushed: after the rename, before
    // the record. Dated a minute back, as an edit saved while the rest of a long batch came
    // down would be: a stat taken at the record would not look racy, and would vouch for it.
    const edited = "edited on B right after the pull put version 2 there\n";
    const saveEdit = async () => {
      await Deno.writeTextFile(fileB, edited);
      const aMinuteAgo = new Date(Date.now() - 60_000);
      await Deno.utime(fileB, aMinuteAgo, aMinuteAgo);
    };
    const pulled = await watchDirSyncs(folderB, saveEdit, pullB);
    assert.ok(!(pulled.result instanceof Error), String(pulled.result));
    assert.equal(pulled.syncs.length, 1);
    assert.equal(await Deno.readTextFile(fileB), edited);

    const pushed = await pushB();
    assert.equal(pushed.files, 1, "the edit is pushed");
    await pullA();
    assert.equal(await Deno.readTextFile(fileA), edited);
  },
);

notesTest(
  "when the directory cannot be made durable, the state db never claims the new version",
  async ({ b, fileA, folderB, pushA, pullB }) => {
    await Deno.writeTextFile(fileA, "v1\n");
    await pushA();
    await pullB();
    const before = b.state.getTracked(trackedNamespace(b), "notes.txt")!;

    await Deno.writeTextFile(fileA, "version 2\n");
    await pushA();
    const failed = await watchDirSyncs(folderB, () => Promise.resolve(), pullB, true);
    assert.match(String(failed.result), /EIO/);
    assert.equal(failed.syncs.length, 1);
    // Whatever the disk kept, the row still names the version it held before: the next pull
    // fetches the new one again, and a push never mistakes the old bytes for it.
    assert.deepEqual(b.state.getTracked(trackedNamespace(b), "notes.txt"), before);
  },
);

syncfsTest(
  "with whole-filesystem flushes (syncfs), a pulled version is flushed in place before the state db records it, and a failed flush records nothing",
  async ({ dir, a, b, beforeFlush }) => {
    const seen: unknown[] = [];
    let failFlush = false;
    let look: () => Promise<unknown> = () => Promise.resolve();
    beforeFlush(async () => {
      seen.push(await look());
      if (failFlush) throw new Error("syncfs: a write error");
    });
    const folderA = join(dir, "a", "Sync");
    const folderB = join(dir, "b", "Sync");
    await Deno.mkdir(folderA, { recursive: true });
    const fileB = join(folderB, "notes.txt");
    const pushA = () => push(a, { localPath: folderA, remoteRel: "", excludes: [] });
    const pullB = () => pull(b, { remoteRel: "", localTarget: folderB });
    const row = () => b.state.getTracked(trackedNamespace(b), "notes.txt");
    await Deno.writeTextFile(join(folderA, "notes.txt"), "v1\n");
    await pushA();
    await pullB();

    look = async () => ({
      content: await Deno.readTextFile(fileB).catch(() => "(none)"),
      recorded: row()?.size,
    });
    await Deno.writeTextFile(join(folderA, "notes.txt"), "version 2\n");
    await pushA();
    seen.length = 0;
    await pullB();
    // The file's flush (before its rename), then the rename's: the row is still the old one.
    assert.deepEqual(seen, [
      { content: "v1\n", recorded: 3 },
      { content: "version 2\n", recorded: 3 },
    ]);
    assert.equal(row()?.size, 10);

    await Deno.writeTextFile(join(folderA, "notes.txt"), "a third version\n");
    await pushA();
    failFlush = true;
    const failed = await pullB().catch((err) => err);
    assert.ok(failed instanceof Error || failed.failed > 0, "the pull reports the failure");
    assert.equal(row()?.size, 10, "the state db still names the version before");
    // The first flush failed: nothing was renamed, and the written copy is gone.
    assert.equal(await Deno.readTextFile(fileB), "version 2\n");
    assert.deepEqual(await namesIn(folderB), ["notes.txt"]);
  },
);

syncfsTest(
  "with syncfs, a pull's window of files is flushed twice in all: every file written before the first flush, every rename before the second, every row after",
  async ({ dir, a, b, beforeFlush }) => {
    const folderA = join(dir, "a", "Sync");
    const folderB = join(dir, "b", "Sync");
    const names = Array.from({ length: 60 }, (_, i) => `d${i % 4}/e${i % 3}/f${i}.txt`);
    const seen: { placed: number; recorded: number }[] = [];
    const look = async () => {
      let placed = 0;
      for (const name of names) {
        const text = await Deno.readTextFile(join(folderB, name)).catch(() => undefined);
        if (text === `content of ${name}\n`) placed++;
      }
      const recorded = names.filter((name) => b.state.getTracked(trackedNamespace(b), name)).length;
      return { placed, recorded };
    };
    beforeFlush(async () => void seen.push(await look()));
    for (const name of names) {
      await Deno.mkdir(join(folderA, name, ".."), { recursive: true });
      await Deno.writeTextFile(join(folderA, name), `content of ${name}\n`);
    }
    await push(a, { localPath: folderA, remoteRel: "", excludes: [] });
    const summary = await pull(b, { remoteRel: "", localTarget: folderB });
    assert.equal(summary.files, names.length);
    assert.deepEqual(seen, [
      { placed: 0, recorded: 0 },
      { placed: names.length, recorded: 0 },
    ]);
    assert.deepEqual(await look(), { placed: names.length, recorded: names.length });
  },
);

syncfsTest(
  "a local edit saved while its batch is written is kept: that path is left for a conflict, the rest of the batch is placed",
  async ({ dir, a, b, beforeFlush }) => {
    const folderA = join(dir, "a", "Sync");
    const folderB = join(dir, "b", "Sync");
    await Deno.mkdir(folderA, { recursive: true });
    for (const name of ["a.txt", "b.txt", "c.txt"]) {
      await Deno.writeTextFile(join(folderA, name), `${name} v1\n`);
    }
    const pushA = () => push(a, { localPath: folderA, remoteRel: "", excludes: [] });
    const pullB = () => pull(b, { remoteRel: "", localTarget: folderB });
    await pushA();
    await pullB();
    for (const name of ["a.txt", "b.txt", "c.txt"]) {
      await Deno.writeTextFile(join(folderA, name), `${name} v2 from a\n`);
    }
    await pushA();
    // At the first flush every new copy is written and none renamed: b.txt is edited then.
    let flushes = 0;
    beforeFlush(async () => {
      if (flushes++ === 0) {
        await Deno.writeTextFile(join(folderB, "b.txt"), "b.txt edited on b\n");
      }
    });
    const summary = await pullB();
    assert.equal(await Deno.readTextFile(join(folderB, "b.txt")), "b.txt edited on b\n");
    assert.deepEqual(summary.failures.map((f) => f.path), ["b.txt"]);
    assert.match(summary.failures[0].error, /changed during the pull; kept the local edit/);
    assert.equal(await Deno.readTextFile(join(folderB, "a.txt")), "a.txt v2 from a\n");
    assert.equal(await Deno.readTextFile(join(folderB, "c.txt")), "c.txt v2 from a\n");
    assert.deepEqual(await namesIn(folderB), ["a.txt", "b.txt", "c.txt"], "no copy left");
  },
);

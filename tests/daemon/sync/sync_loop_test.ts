import assert from "node:assert/strict";
import { join } from "node:path";
import { createFsStore } from "../../../core/store/fs_store.ts";
import { StateDb } from "../../../core/state/state_db.ts";
import type { SyncContext } from "../../../core/sync/sync_context.ts";
import {
  createSyncLoop,
  type LoopSettings,
  type SyncLoopOptions,
} from "../../../daemon/sync/sync_loop.ts";
import { recordingReporting } from "../../support/recording_reporting.ts";
import { push } from "../../../core/sync/push.ts";

/**
 * Waits up to 30 s for `check`: a sync that failed is tried again after 5 s
 * (`RETRY_DELAY_MS`), and on a loaded machine a change may need two such rounds (10 s was
 * missed in 2 of 7 full test runs).
 */
async function until(check: () => boolean, what: string, seen?: () => unknown): Promise<void> {
  for (let i = 0; !check(); i++) {
    assert.ok(i < 600, seen ? `${what}; meanwhile: ${JSON.stringify(seen(), null, 1)}` : what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The text of the file at `path`, or undefined while there is none there. */
function textAt(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** A loop on a real directory store and state db, with everything it reports recorded. */
async function loopFixture(
  dir: string,
  watch?: SyncLoopOptions["watch"],
  storeDir = join(dir, "store"),
  settings: Partial<LoopSettings> = {},
  safetyScanMs?: number,
) {
  const store = createFsStore(storeDir);
  await store.ensureReady();
  const state = await StateDb.open(join(dir, "state.db"));
  const ctx: SyncContext = {
    store,
    state,
    device: { id: crypto.randomUUID(), name: "dev" },
    bucket: "tcfs",
    namespace: "default",
  };
  const { reporting, announced, activities } = recordingReporting();
  const warnings: string[] = [];
  const logged: string[] = [];
  const root = join(dir, "Sync");
  const loop = createSyncLoop({
    root,
    context: () => ctx,
    settings: () => ({ excludes: ["*.skip"], debounceMs: 50, pollIntervalSecs: 1, ...settings }),
    natsConnected: () => false,
    reporting,
    log: (level, message) => {
      logged.push(`${level}: ${message}`);
      if (level === "warning") warnings.push(message);
    },
    watch,
    safetyScanMs,
  });
  return {
    root,
    loop,
    announced,
    warnings,
    logged,
    activities,
    metrics: reporting.metrics,
    /** Whether the loop announced a version of `path` it pushed. */
    synced: (path: string) => announced.some((e) => e.type === "file_synced" && e.path === path),
    async close() {
      await loop.stop();
      state.close();
      store.close();
    },
  };
}

Deno.test("when the OS has no watches left, the loop says so once and finds changes by rescanning", async () => {
  const dir = await Deno.makeTempDir();
  const fixture = await loopFixture(dir, () => {
    throw new Error("No space left on device (os error 28)");
  });
  try {
    await fixture.loop.start();
    await Deno.writeTextFile(join(fixture.root, "found.txt"), "found by a rescan\n");
    await Deno.writeTextFile(join(fixture.root, "ignored.skip"), "excluded\n");
    await until(
      () => fixture.synced("found.txt"),
      "a rescan pushes the file",
    );
    await Deno.writeTextFile(join(fixture.root, "later.txt"), "found by the next rescan\n");
    await until(
      () => fixture.announced.some((e) => e.path === "later.txt"),
      "rescans go on",
    );
    assert.equal(fixture.loop.status().watcher, "rescanning");
    assert.equal(fixture.warnings.length, 1, fixture.warnings.join("\n"));
    assert.match(fixture.warnings[0], /max_user_watches/);
    assert.match(fixture.warnings[0], /full rescan every 1 s/);
    assert.ok(!fixture.announced.some((e) => e.path === "ignored.skip"));
    assert.match(fixture.metrics.registry.render(), /tcfs_errors_total\{op="watch"\} 1\n/);
  } finally {
    await fixture.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("files a loop pulls are recognised by their stat and never pushed back", async () => {
  const dir = await Deno.makeTempDir();
  const storeDir = join(dir, "store");
  const a = await loopFixture(join(dir, "a"), undefined, storeDir);
  const b = await loopFixture(join(dir, "b"), undefined, storeDir);
  try {
    await a.loop.start();
    await b.loop.start();
    await Deno.mkdir(join(a.root, "docs"));
    await Deno.writeTextFile(join(a.root, "docs", "from-a.txt"), "written on A\n");
    await until(() => a.announced.some((e) => e.path === "docs/from-a.txt"), "A pushes");
    b.loop.remoteChanged(a.announced.flatMap((e) => e.path ? [e.path] : []));
    await until(() => textAt(join(b.root, "docs", "from-a.txt")) === "written on A\n", "B pulls");
    // B's watcher sees the file it restored; well past the debounce, B has pushed nothing.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.deepEqual(b.announced, []);
    assert.equal(b.loop.status().pending_changes, 0);
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a sync root that goes missing is never taken as deleted, and syncing resumes when it is back", async () => {
  const dir = await Deno.makeTempDir();
  const first = await loopFixture(dir);
  try {
    await first.loop.start();
    await Deno.writeTextFile(join(first.root, "kept.txt"), "must survive an unmount\n");
    await until(() => first.announced.some((e) => e.path === "kept.txt"), "pushed");
  } finally {
    await first.close();
  }
  // The drive is unmounted: the folder is gone, the state db remembers what came from it.
  await Deno.rename(join(dir, "Sync"), join(dir, "Sync.unmounted"));
  const second = await loopFixture(dir);
  try {
    await second.loop.start();
    await until(
      () => second.loop.status().last_error !== undefined,
      "the loop reports the problem",
    );
    assert.match(
      second.loop.status().last_error!,
      /sync root .* is missing, but files were synced/,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(second.announced.length, 0, "no deletion was pushed");
    assert.equal(second.warnings.length, 1, "said once");
    await assert.rejects(Deno.stat(join(dir, "Sync")), Deno.errors.NotFound);

    await Deno.rename(join(dir, "Sync.unmounted"), join(dir, "Sync"));
    await Deno.writeTextFile(join(dir, "Sync", "after.txt"), "written once it is back\n");
    await until(() => second.announced.some((e) => e.path === "after.txt"), "syncing resumes");
    assert.ok(!second.announced.some((e) => e.type === "file_deleted"));
  } finally {
    await second.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an emptied sync root without its marker is refused, not pushed as deletions; a root synced before markers gets one", async () => {
  const dir = await Deno.makeTempDir();
  const root = join(dir, "Sync");
  const marker = join(root, ".tcfs-root");
  const first = await loopFixture(dir);
  try {
    await first.loop.start();
    await Deno.writeTextFile(join(root, "kept.txt"), "must survive an unmount\n");
    await until(() => first.announced.some((e) => e.path === "kept.txt"), "pushed");
    await Deno.stat(marker); // a new root gets its marker at once
  } finally {
    await first.close();
  }
  // Synced by a tcfs from before markers: the root holds files, so the marker is added.
  await Deno.remove(marker);
  const upgraded = await loopFixture(dir);
  try {
    await upgraded.loop.start();
    await Deno.stat(marker);
    assert.ok(upgraded.logged.some((line) => /synced before root markers/.test(line)));
  } finally {
    await upgraded.close();
  }
  // The drive is unmounted: an empty mount point, no marker.
  await Deno.remove(root, { recursive: true });
  await Deno.mkdir(root);
  const second = await loopFixture(dir);
  try {
    await second.loop.start();
    await until(() => second.loop.status().last_error !== undefined, "the loop reports it");
    assert.match(
      second.loop.status().last_error!,
      /has no \.tcfs-root marker and none of the 1 files synced from it is there: is the drive mounted\?.*touch .*\.tcfs-root/,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(second.announced, [], "no deletion was pushed");
    assert.equal(second.warnings.length, 1, "said once");
    await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);

    // The user says the folder is meant to be empty: the deletion goes out.
    await Deno.writeTextFile(marker, "");
    await until(
      () => second.announced.some((e) => e.type === "file_deleted" && e.path === "kept.txt"),
      "syncing resumes",
    );
    assert.equal(second.loop.status().last_error, undefined);
  } finally {
    await second.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a scan that would delete most of the root is held back while pulls go on, until the user allows it", async () => {
  const dir = await Deno.makeTempDir();
  const storeDir = join(dir, "store");
  const limits = { massDelete: { ratio: 0.5, minFiles: 3 } };
  const first = await loopFixture(join(dir, "a"), undefined, storeDir, limits);
  try {
    await first.loop.start();
    for (let i = 0; i < 4; i++) await Deno.writeTextFile(join(first.root, `f${i}.txt`), `${i}\n`);
    // A file caught half-written is announced again once whole.
    await until(() => first.announced.length >= 4, "pushed");
  } finally {
    await first.close();
  }
  for (let i = 0; i < 4; i++) await Deno.remove(join(dir, "a", "Sync", `f${i}.txt`));
  const a = await loopFixture(join(dir, "a"), undefined, storeDir, limits);
  const b = await loopFixture(join(dir, "b"), undefined, storeDir, limits);
  try {
    await a.loop.start();
    await b.loop.start();
    await until(() => a.loop.status().last_error !== undefined, "the guard stops the scan");
    assert.match(a.loop.status().last_error!, /would delete 4 of the 4 files.*--allow-mass-delete/);
    assert.equal(a.logged.filter((line) => line.startsWith("error: ")).length, 1);

    // Pulls go on, and the status keeps saying what waits.
    await Deno.writeTextFile(join(b.root, "from-b.txt"), "from B\n");
    await until(() => textAt(join(a.root, "from-b.txt")) === "from B\n", "A still pulls");
    assert.match(a.loop.status().last_error ?? "", /would delete 4/);
    assert.ok(!a.announced.some((e) => e.type === "file_deleted"), "nothing was deleted");
    for (let i = 0; i < 4; i++) await Deno.stat(join(b.root, `f${i}.txt`));

    // The user pushes the root with --allow-mass-delete (through the control API).
    const pushed = await a.loop.exclusive((ctx) =>
      push(ctx, { localPath: a.root, remoteRel: "", excludes: [], allowMassDelete: true })
    );
    assert.equal(pushed.deleted, 4);
    await until(() => a.loop.status().last_error === undefined, "the hold is over");
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a type change is pushed by the watcher and pulled on its events at once, in both directions", async () => {
  const dir = await Deno.makeTempDir();
  const storeDir = join(dir, "store");
  // No polls after the first: only the events can bring the changes.
  const a = await loopFixture(join(dir, "a"), undefined, storeDir, { pollIntervalSecs: 3600 });
  const b = await loopFixture(join(dir, "b"), undefined, storeDir, { pollIntervalSecs: 3600 });
  // What A announces reaches B as NATS may carry it: one event at a time, and a burst's
  // last event first, so a folder's file may come before the deletion of the file it replaces.
  let relayed = 0;
  const relayedPaths: string[] = [];
  let sending = false;
  const relay = setInterval(async () => {
    if (sending) return;
    sending = true;
    const fresh = a.announced.slice(relayed);
    relayed += fresh.length;
    for (const event of fresh.reverse()) {
      if (event.path) {
        b.loop.remoteChanged([event.path]);
        relayedPaths.push(event.path);
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    sending = false;
  }, 20);
  const seen = () => ({
    a: { announced: a.announced, logged: a.logged, activities: a.activities },
    b: { logged: b.logged, activities: b.activities, remoteChanged: relayedPaths },
  });
  try {
    await a.loop.start();
    await b.loop.start();
    await Deno.writeTextFile(join(a.root, "d"), "a file\n");
    await until(() => textAt(join(b.root, "d")) === "a file\n", "B pulls the file", seen);

    // File → folder: the folder's file comes with the file's deletion, or right after it.
    await Deno.remove(join(a.root, "d"));
    await Deno.mkdir(join(a.root, "d"));
    await Deno.writeTextFile(join(a.root, "d", "f.txt"), "in a folder\n");
    await until(
      () => textAt(join(b.root, "d", "f.txt")) === "in a folder\n",
      "B pulls the folder",
      seen,
    );

    // Folder → file: A may announce only the new file; B's pull of it finds that the
    // folder's file was deleted remotely too.
    await Deno.remove(join(a.root, "d"), { recursive: true });
    await Deno.writeTextFile(join(a.root, "d"), "a file again\n");
    await until(
      () => textAt(join(b.root, "d")) === "a file again\n",
      "B pulls the file again",
      seen,
    );
    assert.deepEqual([a.warnings, b.warnings], [[], []]);
    assert.equal(a.loop.status().last_error, undefined);
  } finally {
    clearInterval(relay);
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** An OS watcher that reports only what the test emits. */
function scriptedWatcher() {
  const queued: Deno.FsEvent[] = [];
  let wakeUp = () => {};
  let closed = false;
  const watch = () => ({
    async *[Symbol.asyncIterator]() {
      while (!closed) {
        const event = queued.shift();
        if (event) yield event;
        else await new Promise<void>((resolve) => (wakeUp = resolve));
      }
    },
    close() {
      closed = true;
      wakeUp();
    },
  });
  return {
    watch,
    emit(event: Deno.FsEvent) {
      queued.push(event);
      wakeUp();
    },
  };
}

Deno.test("a file made in a new folder before the OS watches the folder is pushed by the scan that follows the folder's", async () => {
  const dir = await Deno.makeTempDir();
  const watcher = scriptedWatcher();
  const fixture = await loopFixture(dir, watcher.watch, undefined, { pollIntervalSecs: 3600 });
  try {
    await fixture.loop.start();
    await Deno.mkdir(join(fixture.root, "d"));
    await Deno.writeTextFile(
      join(fixture.root, "d", "first.txt"),
      "there when the folder is seen\n",
    );
    watcher.emit({ kind: "create", paths: [join(fixture.root, "d")] });
    await until(() => fixture.synced("d/first.txt"), "the folder's push takes its file");
    // inotify watches a new folder only after reporting it: this file makes no event.
    await Deno.writeTextFile(join(fixture.root, "d", "late.txt"), "made before the watch\n");
    await until(
      () => fixture.synced("d/late.txt"),
      "the next scan pushes the file no event reported",
    );
    assert.deepEqual(fixture.warnings, []);
  } finally {
    await fixture.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a change no watch event reported is pushed by the safety rescan", async () => {
  const dir = await Deno.makeTempDir();
  const watcher = scriptedWatcher();
  const fixture = await loopFixture(dir, watcher.watch, undefined, { pollIntervalSecs: 3600 }, 500);
  try {
    await Deno.mkdir(fixture.root, { recursive: true });
    await Deno.writeTextFile(join(fixture.root, "early.txt"), "found by the first scan\n");
    await fixture.loop.start();
    await until(() => fixture.synced("early.txt"), "the start-up scan pushes the file");
    await Deno.writeTextFile(join(fixture.root, "unreported.txt"), "no event says so\n");
    await until(() => fixture.synced("unreported.txt"), "the safety rescan pushes the file");
    assert.equal(fixture.loop.status().watcher, "watching");
    assert.deepEqual(fixture.warnings, []);
  } finally {
    await fixture.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a folder's file whose event comes before the deletion of the file in its way is pulled with that deletion's event", async () => {
  const dir = await Deno.makeTempDir();
  const storeDir = join(dir, "store");
  const writerRoot = join(dir, "w");
  await Deno.mkdir(writerRoot);
  const store = createFsStore(storeDir);
  await store.ensureReady();
  const state = await StateDb.open(join(dir, "w-state.db"));
  const writer: SyncContext = {
    store,
    state,
    device: { id: crypto.randomUUID(), name: "writer" },
    bucket: "tcfs",
    namespace: "default",
  };
  const all = { localPath: writerRoot, remoteRel: "", excludes: [] };
  // No polls after the first: only the events can bring the changes.
  const b = await loopFixture(join(dir, "b"), undefined, storeDir, { pollIntervalSecs: 3600 });
  try {
    await Deno.writeTextFile(join(writerRoot, "d"), "a file\n");
    await push(writer, all);
    await b.loop.start();
    b.loop.remoteChanged(["d"]);
    await until(() => textAt(join(b.root, "d")) === "a file\n", "B pulls the file");

    // The writer's folder file goes up in a batch before the one that deletes the file `d`.
    await Deno.remove(join(writerRoot, "d"));
    await Deno.mkdir(join(writerRoot, "d"));
    await Deno.writeTextFile(join(writerRoot, "d", "f.txt"), "in a folder\n");
    await push(writer, {
      localPath: join(writerRoot, "d", "f.txt"),
      remoteRel: "d/f.txt",
      excludes: [],
    });
    b.loop.remoteChanged(["d/f.txt"]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(Deno.readTextFileSync(join(b.root, "d")), "a file\n", "still current remotely");

    await push(writer, all);
    b.loop.remoteChanged(["d"]);
    await until(
      () => textAt(join(b.root, "d", "f.txt")) === "in a folder\n",
      "B pulls the folder's file with the deletion's event",
    );
    assert.deepEqual(b.warnings, []);
  } finally {
    await b.close();
    state.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a poll whose pull left a path out pulls again only after a while, or after a local change to a synced path", async () => {
  const dir = await Deno.makeTempDir();
  const storeDir = join(dir, "store");
  const a = await loopFixture(join(dir, "a"), undefined, storeDir);
  const b = await loopFixture(join(dir, "b"), undefined, storeDir);
  let failed = 0;
  const recordError = b.metrics.recordError;
  b.metrics.recordError = (op) => {
    if (op === "poll") failed++;
    recordError(op);
  };
  const failedPolls = () => failed;
  try {
    await a.loop.start();
    await Deno.mkdir(join(a.root, "x"));
    await Deno.writeTextFile(join(a.root, "x", "a.txt"), "a\n");
    await until(() => a.synced("x/a.txt"), "A pushes");
    // A file of B's own stands where A has a folder: every pull of x/a.txt fails.
    await Deno.mkdir(b.root);
    await Deno.writeTextFile(join(b.root, "x"), "B's own\n");
    await b.loop.start();
    await until(() => failedPolls() === 1, "B's first poll fails on x/a.txt");
    // Polls are due every second; the fold has not moved, so none pulls again for 30 s, nor
    // after changes to paths the daemon does not sync (a build's output).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await Deno.writeTextFile(join(b.root, "build.skip"), "output\n");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(failedPolls(), 1);

    await Deno.remove(join(b.root, "x"));
    await until(
      () => textAt(join(b.root, "x", "a.txt")) === "a\n",
      "B pulls x/a.txt once its own file is gone",
    );
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

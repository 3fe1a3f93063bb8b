import assert from "node:assert/strict";
import { join } from "node:path";
import { concatBytes } from "../../../core/encoding/concat_bytes.ts";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectStore, PutCondition, PutOptions } from "../../../core/store/object_store.ts";
import { StateDb } from "../../../core/state/state_db.ts";
import { parseSegmentKey } from "../../../core/remote/remote_keys.ts";
import { readVerifiedContent } from "../../../core/sync/verified_content.ts";
import { push } from "../../../core/sync/push.ts";
import { pull } from "../../../core/sync/pull.ts";
import {
  namespaceHeads,
  type SyncContext,
  trackedNamespace,
} from "../../../core/sync/sync_context.ts";
import type { VectorClock } from "../../../core/vclock/vector_clock.ts";
import { statEntry } from "../../../core/sync/local_scanner.ts";
import { durableLocalContent } from "../../../core/sync/local_content.ts";
import { createPackWriter } from "../../../core/sync/pack_writer.ts";
import { writeVersion } from "../../../core/journal/version_batch.ts";
import { resolveConflict } from "../../../core/conflicts/conflict_resolver.ts";
import { listConflicts } from "../../../core/conflicts/conflict_queue.ts";
import { TcfsError } from "../../../core/errors.ts";

/** Runs once before a store's next write of a journal segment: another device writing meanwhile. */
interface PutHook {
  run?: () => Promise<void>;
}

function storeWithHook(inner: ObjectStore, hook: PutHook): ObjectStore {
  return new Proxy(inner, {
    get(target, prop) {
      const before = async (key: string) => {
        const run = hook.run;
        if (run && parseSegmentKey(key)) {
          hook.run = undefined;
          await run();
        }
      };
      if (prop === "put") {
        return async (key: string, body: Uint8Array, options?: PutOptions) => {
          await before(key);
          return await target.put(key, body, options);
        };
      }
      if (prop === "putConditional") {
        return async (key: string, body: Uint8Array, condition: PutCondition) => {
          await before(key);
          return await target.putConditional(key, body, condition);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Three devices (alpha < bravo < charlie) on one directory store; alpha's store has a hook. */
async function fleet(mode: "auto" | "interactive" = "auto") {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-resolver-" });
  const shared = createFsStore(join(dir, "store"));
  await shared.ensureReady();
  const hook: PutHook = {};
  const hooked = storeWithHook(shared, hook);
  const device = async (name: string, store: ObjectStore) => {
    const root = join(dir, name, "Sync");
    await Deno.mkdir(root, { recursive: true });
    const ctx: SyncContext = {
      store,
      state: await StateDb.open(join(dir, name, "state.db")),
      device: { id: crypto.randomUUID(), name },
      bucket: "tcfs",
      namespace: "default",
      conflictMode: mode,
    };
    const file = join(root, "notes.txt");
    return {
      ctx,
      root,
      file,
      edit: (text: string) => Deno.writeTextFile(file, text),
      push: () => push(ctx, { localPath: root, remoteRel: "", excludes: [] }),
      pull: () => pull(ctx, { remoteRel: "", localTarget: root }),
    };
  };
  const alpha = await device("alpha", hooked);
  const bravo = await device("bravo", shared);
  const charlie = await device("charlie", shared);
  await alpha.edit("base\n");
  await alpha.push();
  await bravo.pull();
  await charlie.pull();
  return {
    alpha,
    bravo,
    charlie,
    hook,
    /** Every head's content in the store, by path. */
    async stored(): Promise<Map<string, string[]>> {
      const { byPath } = await namespaceHeads(bravo.ctx, () => true);
      const out = new Map<string, string[]>();
      for (const [path, { heads }] of byPath) {
        const texts = await Promise.all(heads.map(async (h) => {
          if (h.version.kind !== "file") return "";
          const parts: Uint8Array[] = [];
          const counters = { chunksDownloaded: 0, bytesDownloaded: 0 };
          await readVerifiedContent(
            shared,
            h.version,
            { counters },
            (bytes) => Promise.resolve(parts.push(bytes.slice())),
          );
          return new TextDecoder().decode(concatBytes(parts));
        }));
        out.set(path, texts);
      }
      return out;
    },
    async close() {
      for (const d of [alpha, bravo, charlie]) d.ctx.state.close();
      shared.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The clock this device last synced `notes.txt` at. */
function baseOf(ctx: SyncContext): VectorClock {
  return ctx.state.getTracked(trackedNamespace(ctx), "notes.txt")!.baseVclock;
}

/**
 * Writes the device's file as a version over `base` without looking at the store: a
 * version concurrent with whatever else is there (push would refuse to write it).
 */
async function writeAs(ctx: SyncContext, file: string, base: VectorClock) {
  const entry = await statEntry(file, "notes.txt");
  const content = await durableLocalContent(entry, createPackWriter(ctx.store));
  return await writeVersion(ctx, "notes.txt", content, base, {
    path: "notes.txt",
    heads: [],
    kept: [],
  });
}

const everything = (stored: Map<string, string[]>) => [...stored.values()].flat();

Deno.test("auto resolution: a version written between reading the sides and writing the resolution is not deleted, it is resolved again with it", async () => {
  const f = await fleet();
  await f.bravo.edit("bravo's edit\n");
  await f.bravo.push();
  await f.charlie.pull();
  await f.alpha.edit("alpha's edit\n");
  // alpha wins over bravo's version and copies it first; meanwhile charlie edits over it.
  f.hook.run = async () => {
    await f.charlie.edit("charlie's edit\n");
    await f.charlie.push();
  };
  const pushed = await f.alpha.push();
  assert.equal(f.hook.run, undefined, "the hook ran");
  assert.deepEqual(pushed.conflicts, []);
  const stored = await f.stored();
  assert.deepEqual(stored.get("notes.txt"), ["alpha's edit\n"]);
  assert.ok(everything(stored).includes("charlie's edit\n"), [...stored].join("\n"));
  assert.ok(everything(stored).includes("bravo's edit\n"), [...stored].join("\n"));
  await f.close();
});

Deno.test("a local edit that loses keeps its version, and a version written before the resolution lands stays a head", async () => {
  const f = await fleet();
  await f.charlie.edit("charlie's edit\n");
  await f.charlie.push();
  await f.bravo.pull();
  await f.alpha.pull();
  await f.bravo.edit("bravo's edit\n");
  await f.bravo.push();
  await f.charlie.pull();
  // alpha's local edit (from base) meets bravo's version; a later edit of charlie's lands
  // while alpha writes.
  await f.alpha.edit("alpha's edit\n");
  f.hook.run = async () => {
    await f.charlie.edit("charlie's second edit\n");
    await f.charlie.push();
  };
  await f.alpha.push();
  assert.equal(f.hook.run, undefined, "the hook ran");
  const all = everything(await f.stored());
  for (const text of ["alpha's edit\n", "bravo's edit\n", "charlie's second edit\n"]) {
    assert.ok(all.includes(text), `${JSON.stringify(text)} lost: ${JSON.stringify(all)}`);
  }
  await f.close();
});

Deno.test("a user's resolution stopped by a version written meanwhile overwrites nothing and queues the conflict again", async () => {
  const f = await fleet("interactive");
  await f.bravo.edit("bravo's edit\n");
  await f.bravo.push();
  await f.charlie.edit("charlie's edit\n");
  const charlies = await writeAs(f.charlie.ctx, f.charlie.file, baseOf(f.charlie.ctx));
  // alpha keeps bravo's version; charlie's loses and is copied first, while charlie edits again.
  f.hook.run = async () => {
    await f.charlie.edit("charlie's second edit\n");
    await writeAs(f.charlie.ctx, f.charlie.file, charlies.version.vclock);
  };
  await assert.rejects(
    resolveConflict(f.alpha.ctx, { rel: "notes.txt", localPath: f.alpha.file }, "keep_remote"),
    (err: unknown) => err instanceof TcfsError && err.kind === "conflict_changed",
  );
  assert.equal(f.hook.run, undefined, "the hook ran");
  assert.deepEqual(listConflicts(f.alpha.ctx.state).map((c) => c.path), ["notes.txt"]);
  assert.equal(await Deno.readTextFile(f.alpha.file), "base\n");
  const stored = await f.stored();
  assert.deepEqual(stored.get("notes.txt")?.sort(), ["bravo's edit\n", "charlie's second edit\n"]);
  await f.close();
});

Deno.test("resolution ignores a revoked device's late version, as push does: not chosen, not copied, not covered", async () => {
  const f = await fleet();
  await f.bravo.edit("bravo's edit\n");
  await f.bravo.push();
  // charlie, revoked an hour ago, still writes a version of its own (from the base).
  const revokedAt = new Date(Date.now() - 3_600_000).toISOString();
  await f.charlie.edit("charlie's late edit\n");
  await writeAs(f.charlie.ctx, f.charlie.file, baseOf(f.charlie.ctx));
  f.alpha.ctx.revoked = new Map([[f.charlie.ctx.device.id, revokedAt]]);
  await f.alpha.edit("alpha's edit\n");
  const pushed = await f.alpha.push();
  assert.equal(pushed.auto_resolved.length, 1);
  const { byPath } = await namespaceHeads(f.alpha.ctx, () => true);
  const [resolution] = byPath.get("notes.txt")!.heads;
  assert.equal(resolution.version.author, f.alpha.ctx.device.id);
  assert.equal(
    resolution.version.vclock[f.charlie.ctx.device.id],
    undefined,
    "the resolution covers the revoked device's late version",
  );
  const local = new Map<string, string>();
  for await (const e of Deno.readDir(f.alpha.root)) {
    local.set(e.name, await Deno.readTextFile(join(f.alpha.root, e.name)));
  }
  assert.equal(local.get("notes.txt"), "alpha's edit\n");
  assert.ok(![...local.values()].includes("charlie's late edit\n"));
  await f.close();
});

Deno.test("max_conflicts: past the cap the oldest copies are deleted on every device, the newest kept", async () => {
  const f = await fleet();
  f.alpha.ctx.maxConflicts = 2;
  for (const round of [1, 2, 3]) {
    await f.bravo.pull();
    await f.bravo.edit(`bravo's edit ${round}\n`);
    await f.bravo.push();
    await f.alpha.edit(`alpha's edit ${round}\n`);
    const pushed = await f.alpha.push();
    assert.equal(pushed.auto_resolved.length, 1);
    // Copies are ordered by when their side was written, to the second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
  }
  const copies = async (root: string) => {
    const out: string[] = [];
    for await (const e of Deno.readDir(root)) {
      if (e.name.includes(".conflict-")) out.push(await Deno.readTextFile(join(root, e.name)));
    }
    return out.sort();
  };
  const kept = ["bravo's edit 2\n", "bravo's edit 3\n"];
  assert.deepEqual(await copies(f.alpha.root), kept);
  await f.bravo.pull();
  assert.deepEqual(await copies(f.bravo.root), kept);
  const stored = await f.stored();
  const live = [...stored].filter(([path, texts]) =>
    path.includes(".conflict-") && texts[0] !== ""
  );
  assert.deepEqual(live.map(([, texts]) => texts[0]).sort(), kept);
  await f.close();
});

Deno.test("an edit saved while a winning local side is resolved is not recorded as synced: the next push sends it", async () => {
  const f = await fleet();
  await f.bravo.edit("bravo's edit\n");
  await f.bravo.push();
  await f.alpha.edit("alpha's edit\n");
  // alpha wins; its file was read before bravo's copy is stored, and is saved again then.
  f.hook.run = () => f.alpha.edit("alpha's later edit, saved meanwhile\n");
  const pushed = await f.alpha.push();
  assert.equal(f.hook.run, undefined, "the hook ran");
  assert.equal(pushed.auto_resolved.length, 1);
  await f.alpha.push();
  await f.bravo.pull();
  assert.equal(await Deno.readTextFile(f.bravo.file), "alpha's later edit, saved meanwhile\n");
  await f.close();
});

Deno.test("keep_both stops, keeping the edit, when the losing local file is saved again before its rename", async () => {
  const f = await fleet("interactive");
  await f.bravo.edit("bravo's edit\n");
  await f.bravo.push();
  await f.alpha.edit("alpha's edit\n");
  const site = { rel: "notes.txt", localPath: f.alpha.file };
  f.hook.run = () => f.alpha.edit("alpha's later edit, saved meanwhile\n");
  await assert.rejects(
    resolveConflict(f.alpha.ctx, site, "keep_both"),
    (err: unknown) => err instanceof TcfsError && err.kind === "local_changed",
  );
  assert.equal(f.hook.run, undefined, "the hook ran");
  assert.equal(await Deno.readTextFile(f.alpha.file), "alpha's later edit, saved meanwhile\n");
  await resolveConflict(f.alpha.ctx, site, "keep_both");
  const all = everything(await f.stored());
  for (const text of ["alpha's later edit, saved meanwhile\n", "bravo's edit\n"]) {
    assert.ok(all.includes(text), `${JSON.stringify(text)} lost: ${JSON.stringify(all)}`);
  }
  await f.close();
});

Deno.test("a revoked device cannot resolve a conflict: nothing is written", async () => {
  const f = await fleet("interactive");
  await f.bravo.edit("bravo's edit\n");
  await f.bravo.push();
  await f.alpha.edit("alpha's edit\n");
  f.alpha.ctx.revoked = new Map([[f.alpha.ctx.device.id, new Date().toISOString()]]);
  const before = await f.stored();
  await assert.rejects(
    resolveConflict(f.alpha.ctx, { rel: "notes.txt", localPath: f.alpha.file }, "keep_local"),
    (err: unknown) => err instanceof TcfsError && err.kind === "device_revoked",
  );
  assert.deepEqual(await f.stored(), before);
  assert.equal(await Deno.readTextFile(f.alpha.file), "alpha's edit\n");
  await f.close();
});

/** One auto-resolved round: bravo and alpha edit notes.txt, alpha pushes; copies name by second. */
async function conflictRound(f: Awaited<ReturnType<typeof fleet>>, round: number) {
  await f.bravo.pull();
  await f.bravo.edit(`bravo's edit ${round}\n`);
  await f.bravo.push();
  await f.alpha.edit(`alpha's edit ${round}\n`);
  assert.equal((await f.alpha.push()).auto_resolved.length, 1);
  await new Promise((resolve) => setTimeout(resolve, 1100));
}

async function copyNames(root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(root)) if (e.name.includes(".conflict-")) out.push(e.name);
  return out;
}

Deno.test("max_conflicts: a copy saved again while its deletion is written stays on disk", async () => {
  const f = await fleet();
  f.alpha.ctx.maxConflicts = 1;
  await conflictRound(f, 1);
  const [oldest] = await copyNames(f.alpha.root);
  // The round's third version write is the cap's deletion of the oldest copy.
  f.hook.run = () => {
    f.hook.run = () => {
      f.hook.run = () => Deno.writeTextFile(join(f.alpha.root, oldest), "edited copy\n");
      return Promise.resolve();
    };
    return Promise.resolve();
  };
  await conflictRound(f, 2);
  assert.equal(f.hook.run, undefined, "the hook ran");
  assert.equal(await Deno.readTextFile(join(f.alpha.root, oldest)), "edited copy\n");
  await f.close();
});

Deno.test("max_conflicts: another device's edit of a copy this device has not synced is not deleted", async () => {
  const f = await fleet();
  f.alpha.ctx.maxConflicts = 1;
  await conflictRound(f, 1);
  const [oldest] = await copyNames(f.alpha.root);
  await f.bravo.pull();
  await Deno.writeTextFile(join(f.bravo.root, oldest), "bravo's edit of the copy\n");
  await f.bravo.push();
  await conflictRound(f, 2);
  const stored = await f.stored();
  assert.deepEqual(stored.get(oldest), ["bravo's edit of the copy\n"]);
  await f.close();
});

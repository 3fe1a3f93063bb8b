import assert from "node:assert/strict";
import { join } from "node:path";
import { createFsStore } from "../../../core/store/fs_store.ts";
import { StateDb } from "../../../core/state/state_db.ts";
import { push } from "../../../core/sync/push.ts";
import { pull } from "../../../core/sync/pull.ts";
import type { SyncContext } from "../../../core/sync/sync_context.ts";
import { statEntry } from "../../../core/sync/local_scanner.ts";
import { removeIfUnchanged } from "../../../core/sync/unchanged_removal.ts";

/**
 * A state db that runs `edit` right after the pull looks `rel`'s tracked entry up: the plan
 * then stats the local file before its first await, so the edit lands after the file was
 * stat'ed and before a deletion removes it.
 */
function stateWithEditAfterLookup(state: StateDb, rel: string, edit: () => void): StateDb {
  return new Proxy(state, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop !== "getTrackedAmong") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (namespace: string, paths: string[]) => {
        if (paths.includes(rel)) queueMicrotask(edit);
        return target.getTrackedAmong(namespace, paths);
      };
    },
  });
}

Deno.test("an edit saved while a remote deletion is applied is kept, not removed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-pull-delete-" });
  const store = createFsStore(join(dir, "store"));
  await store.ensureReady();
  const device = async (name: string): Promise<SyncContext & { root: string }> => {
    const root = join(dir, name);
    await Deno.mkdir(root, { recursive: true });
    return {
      root,
      store,
      state: await StateDb.open(join(dir, `${name}.db`)),
      device: { id: crypto.randomUUID(), name },
      bucket: "tcfs",
      namespace: "default",
    };
  };
  const alpha = await device("alpha");
  const bravo = await device("bravo");
  try {
    await Deno.writeTextFile(join(alpha.root, "notes.txt"), "first\n");
    await push(alpha, { localPath: alpha.root, remoteRel: "", excludes: [] });
    await pull(bravo, { remoteRel: "", localTarget: bravo.root });
    await Deno.remove(join(alpha.root, "notes.txt"));
    await push(alpha, { localPath: alpha.root, remoteRel: "", excludes: [] });

    const file = join(bravo.root, "notes.txt");
    const racing = {
      ...bravo,
      state: stateWithEditAfterLookup(bravo.state, "notes.txt", () => {
        Deno.writeTextFileSync(file, "an edit saved just now\n");
      }),
    };
    const summary = await pull(racing, { remoteRel: "", localTarget: bravo.root });
    assert.equal(await Deno.readTextFile(file), "an edit saved just now\n");
    assert.deepEqual(summary.kept_modified, ["tcfs/default/notes.txt"]);
    assert.equal(summary.deleted, 0);
  } finally {
    alpha.state.close();
    bravo.state.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removeIfUnchanged removes the file it was shown, and nothing edited since", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-remove-" });
  try {
    const path = join(dir, "a.txt");
    await Deno.writeTextFile(path, "one");
    const seen = (await statEntry(path, "a.txt"))!;
    await Deno.writeTextFile(path, "one, edited");
    assert.equal(await removeIfUnchanged(seen, dir), false);
    assert.equal(await Deno.readTextFile(path), "one, edited");
    assert.equal(await removeIfUnchanged((await statEntry(path, "a.txt"))!, dir), true);
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
    assert.equal(await removeIfUnchanged(seen, dir), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

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
 * A state db that runs `edit` on the `at`-th look-up of `rel`'s tracked entry: pull checks
 * the local file, then looks the entry up again to compare them, so the edit lands after
 * the file was stat'ed and before a deletion removes it.
 */
function stateWithEditAt(state: StateDb, rel: string, at: number, edit: () => void): StateDb {
  let calls = 0;
  return new Proxy(state, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop !== "getTracked") return typeof value === "function" ? value.bind(target) : value;
      return (namespace: string, path: string) => {
        if (path === rel && ++calls === at) edit();
        return target.getTracked(namespace, path);
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
      state: stateWithEditAt(bravo.state, "notes.txt", 2, () => {
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
    assert.equal(await removeIfUnchanged(seen), false);
    assert.equal(await Deno.readTextFile(path), "one, edited");
    assert.equal(await removeIfUnchanged((await statEntry(path, "a.txt"))!), true);
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
    assert.equal(await removeIfUnchanged(seen), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

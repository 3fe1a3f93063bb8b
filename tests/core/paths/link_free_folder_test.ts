import assert from "node:assert/strict";
import { join } from "node:path";
import { checkedFolders, inLinkFreeFolder } from "../../../core/paths/link_free_folder.ts";
import { confinedPlace } from "../../../core/paths/confined_path.ts";

Deno.test("a change naming its entry forgets only the checked folders at or below that entry", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const dir of ["a/b", "a/c", "d"]) await Deno.mkdir(join(root, dir), { recursive: true });
    const checked = checkedFolders();
    const noop = () => Promise.resolve();
    await inLinkFreeFolder(root, join(root, "a/b"), noop, { checked });
    await inLinkFreeFolder(root, join(root, "a/c"), noop, { checked });
    await inLinkFreeFolder(root, join(root, "d"), noop, { checked });
    const all = ["a", "a/b", "a/c", "d"].map((dir) => join(root, dir));
    assert.deepEqual([...checked].sort(), all);

    // A file written in `a` touches no folder.
    await inLinkFreeFolder(root, join(root, "a"), noop, { checked, entry: join(root, "a/x") });
    assert.deepEqual([...checked].sort(), all);
    // Replacing `a/b` may have put a link there: it is checked again next time.
    await inLinkFreeFolder(root, join(root, "a"), noop, { checked, entry: join(root, "a/b") });
    assert.deepEqual([...checked].sort(), ["a", "a/c", "d"].map((dir) => join(root, dir)));
    // Without an entry, every folder below the changed one goes.
    await inLinkFreeFolder(root, join(root, "a"), noop, { checked });
    assert.deepEqual([...checked].sort(), ["a", "d"].map((dir) => join(root, dir)));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a folder a planning pass found missing is not looked for again, and says so", async () => {
  const root = await Deno.makeTempDir();
  try {
    const missing = new Set<string>();
    const first = confinedPlace(root, "new/deeper/a.txt", "test", missing);
    assert.deepEqual(first, { path: join(root, "new/deeper/a.txt"), parentMissing: true });
    assert.deepEqual([...missing], [join(root, "new")]);
    // Made meanwhile by someone else: the pass still takes it as missing (the restore checks).
    await Deno.mkdir(join(root, "new"));
    const second = confinedPlace(root, "new/b.txt", "test", missing);
    assert.equal(second.parentMissing, true);
    const fresh = confinedPlace(root, "new/b.txt", "test", new Set());
    assert.equal(fresh.parentMissing, false);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

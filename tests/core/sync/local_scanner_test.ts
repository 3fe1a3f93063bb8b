import assert from "node:assert/strict";
import { join } from "node:path";
import { scanFolder } from "../../../core/sync/local_scanner.ts";

Deno.test("a folder removed while the scan walks counts as gone, not as an error", async () => {
  const root = await Deno.makeTempDir({ prefix: "tcfs-scan-" });
  try {
    await Deno.writeTextFile(join(root, "a.txt"), "a");
    await Deno.mkdir(join(root, "b"));
    await Deno.writeTextFile(join(root, "b", "c.txt"), "c");
    await Deno.writeTextFile(join(root, "d.txt"), "d");
    const seen: string[] = [];
    for await (const entry of scanFolder(root, () => false)) {
      seen.push(entry.rel);
      // The root is listed; "b" is read only when the walk gets to it.
      if (entry.rel === "a.txt") await Deno.remove(join(root, "b"), { recursive: true });
    }
    assert.deepEqual(seen, ["a.txt", "d.txt"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

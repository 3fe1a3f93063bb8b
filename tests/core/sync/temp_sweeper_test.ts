import assert from "node:assert/strict";
import { join } from "node:path";
import { sweepTempFiles } from "../../../daemon/sync/temp_sweeper.ts";

Deno.test("leftover tcfs temp files are removed at any depth; everything else stays", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(root, "a", "b"), { recursive: true });
    const temps = [
      join(root, ".x.txt.tcfs-tmp-0123abcd"),
      join(root, "a", "b", ".big.bin.tcfs-tmp-deadbeef"),
    ];
    const kept = [
      join(root, "x.txt"),
      join(root, "a", "notes.tcfs-tmp-0123abcd"), // no leading dot: not one of ours
      join(root, "a", ".y.tcfs-tmp-XYZ"), // not 8 hex digits
    ];
    for (const path of [...temps, ...kept]) await Deno.writeTextFile(path, "x");
    assert.deepEqual((await sweepTempFiles(root)).sort(), temps.sort());
    for (const path of temps) await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
    for (const path of kept) await Deno.stat(path);
    assert.deepEqual(await sweepTempFiles(join(root, "missing")), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { linuxSyncfs, reportsWriteErrors } from "../../platform/linux_syncfs.ts";

Deno.test("syncfs is used only on kernels whose syncfs reports write errors (5.8+)", () => {
  assert.equal(reportsWriteErrors("6.1.0-18-amd64"), true);
  assert.equal(reportsWriteErrors("5.8.0"), true);
  assert.equal(reportsWriteErrors("5.15.0-91-generic"), true);
  assert.equal(reportsWriteErrors("5.4.0-150-generic"), false);
  assert.equal(reportsWriteErrors("4.19.0-26-amd64"), false);
});

Deno.test({
  name: "syncfs flushes the filesystem of a folder, and a missing folder is a clear error",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const flusher = linuxSyncfs();
    assert.ok(flusher, "this Linux has syncfs");
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(join(dir, "f"), "x");
      const handle = flusher.open(dir);
      await handle.flush();
      handle.close();
      assert.throws(
        () => flusher.open(join(dir, "missing")),
        /cannot open .*missing.*No such file/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

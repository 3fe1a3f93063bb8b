import assert from "node:assert/strict";
import { join } from "node:path";
import { makeScopedTempDir } from "../../support/module_unload.ts";

const OPENER = new URL("./concurrent_open_child.ts", import.meta.url).pathname;

Deno.test("processes opening one state db at once wait for each other instead of failing with 'database is locked'", async () => {
  const tmp = await makeScopedTempDir("tcfs-state-open-");
  const path = join(tmp.path, "state.db");
  const children = Array.from({ length: 4 }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", OPENER, path, String(i)],
      stdout: "piped",
      stderr: "piped",
    }).output());
  for (const { code, stderr } of await Promise.all(children)) {
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  }
  await tmp.remove();
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFileStoreDevices } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { journalMarkerKey } from "../../core/remote/remote_keys.ts";
import type { PushSummary } from "../../core/sync/transfer_summary.ts";

Deno.test("a marker of a newer journal format stops every command, naming the release it needs", async () => {
  const tmp = await makeScopedTempDir("tcfs-journal-marker-");
  const [a, b] = await makeFileStoreDevices(tmp.path, "devA", "devB");
  try {
    const docsA = join(a.home, "docs");
    await Deno.mkdir(docsA);
    await Deno.writeTextFile(join(docsA, "a.txt"), "a\n");
    await a.tcfsJson<PushSummary>(["push", docsA, "tcfs/default/docs"]);
    const marker = join(tmp.path, "store", journalMarkerKey("default"));
    const written = JSON.parse(await Deno.readTextFile(marker));
    assert.equal(written.journal, 1);
    await Deno.writeTextFile(
      marker,
      JSON.stringify({ ...written, journal: 2, requires: "0.9.3" }),
    );

    const docsB = join(b.home, "docs");
    await Deno.mkdir(docsB);
    await Deno.writeTextFile(join(docsB, "b.txt"), "b\n");
    const commands = [
      ["push", docsB, "tcfs/default/docs"],
      ["pull", "tcfs/default/docs", docsB],
      ["ls", "tcfs/default/docs"],
      ["sync-status", docsB],
      ["check", "tcfs/default/docs"],
    ];
    for (const args of commands) {
      const result = await b.tcfs([...args, "--json"]);
      assert.notEqual(result.code, 0, `${args[0]}: ${result.stdout}`);
      const { error } = JSON.parse(result.stdout);
      assert.equal(error?.kind, "journal_too_new", `${args[0]}: ${result.stdout}`);
      assert.match(error.message, /journal format 2, which needs tcfs 0\.9\.3 or later/);
      assert.match(error.hint, /install tcfs 0\.9\.3 or later/);
      const plain = await b.tcfs(args);
      assert.match(plain.stderr, /0\.9\.3/, `${args[0]}: ${plain.stderr}`);
    }
    // Nothing was written: B's file did not go into any journal.
    const journals = await Array.fromAsync(Deno.readDir(join(tmp.path, "store/ns/default/j")));
    assert.equal(journals.length, 1);
    assert.equal(await Deno.readTextFile(join(docsB, "b.txt")), "b\n");
  } finally {
    await tmp.remove();
  }
});

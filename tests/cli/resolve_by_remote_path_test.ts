import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFileStoreDevices } from "../support/device_home.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

Deno.test("resolve-conflict of a remote path works on the file where the conflict is, never on a namesake in the working folder", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-resolve-remote-" });
  try {
    const [a, b] = await makeFileStoreDevices(tmp, "devA", "devB");
    // Folders pushed and pulled by hand: no sync root says where a remote path lives.
    const rootA = join(a.home, "docs");
    const rootB = join(b.home, "docs");
    await Deno.mkdir(rootA);
    await Deno.writeTextFile(join(rootA, "notes.txt"), "base\n");
    await a.tcfsJson<PushSummary>(["push", rootA]);
    await b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", rootB]);
    await Deno.writeTextFile(join(rootA, "notes.txt"), "edit from A\n");
    await Deno.writeTextFile(join(rootB, "notes.txt"), "edit from B\n");
    await a.tcfsJson<PushSummary>(["push", rootA]);
    await b.tcfsJson<PushSummary>(["push", rootB], { allowCodes: [3] });

    // B resolves by the remote path from a folder that holds another notes.txt.
    const work = join(b.home, "work");
    await Deno.mkdir(work);
    await Deno.writeTextFile(join(work, "notes.txt"), "someone else's notes\n");
    const resolved = await b.tcfs([
      "resolve-conflict",
      "tcfs/default/docs/notes.txt",
      "--keep-both",
    ], {
      cwd: work,
    });
    assert.equal(resolved.code, 0, resolved.stderr);
    // The namesake was taken for the local side: keep-both kept nothing of B's edit, and
    // keep-remote wrote the remote version over the namesake.
    assert.equal(await Deno.readTextFile(join(work, "notes.txt")), "someone else's notes\n");
    const names = (await Array.fromAsync(Deno.readDir(rootB))).map((e) => e.name).sort();
    assert.equal(names.length, 2, names.join(", "));
    assert.equal(await Deno.readTextFile(join(rootB, "notes.txt")), "edit from A\n");
    const copy = names.find((n) => n !== "notes.txt")!;
    assert.match(copy, /^notes\.conflict-devB-/);
    assert.equal(await Deno.readTextFile(join(rootB, copy)), "edit from B\n");
    const left = await b.tcfsJson<unknown[]>(["conflicts"]);
    assert.deepEqual(left, []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

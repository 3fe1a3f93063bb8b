import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** Two devices on a file:// store, each with a folder s1 mapped to tcfs/default/s1. */
async function fleet() {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-push-safety-" });
  const env = { TCFS_S3_ENDPOINT: `file://${tmp}/store` };
  const a = await makeDeviceHome(tmp, "devA", env);
  const b = await makeDeviceHome(tmp, "devB", env);
  const remote = (rel: string) => `tcfs/default/${rel}`;
  const s1 = (d: { home: string }) => join(d.home, "s1");
  await Deno.mkdir(s1(a));
  await Deno.mkdir(s1(b));
  return { tmp, a, b, remote, s1 };
}

Deno.test("a pull into a second folder does not make the next push of the first overwrite a newer remote version", async () => {
  const { tmp, a, b, remote, s1 } = await fleet();
  await Deno.writeTextFile(join(s1(a), "a.txt"), "from A\n");
  await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")]);
  await b.tcfsJson<PullSummary>(["pull", remote("s1"), s1(b)]);
  await Deno.writeTextFile(join(s1(b), "a.txt"), "B's newer edit\n");
  await b.tcfsJson<PushSummary>(["push", s1(b), remote("s1")]);

  const peek = join(tmp, "peek");
  await Deno.mkdir(peek);
  await a.tcfsJson<PullSummary>(["pull", remote("s1/a.txt"), join(peek, "a.txt")]);
  assert.equal(await Deno.readTextFile(join(peek, "a.txt")), "B's newer edit\n");

  // s1/a.txt on A still holds A's old content: pushing it must not replace B's version.
  const pushed = await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")], {
    allowCodes: [3],
  });
  assert.equal(pushed.files, 0);
  assert.deepEqual(pushed.conflicts, [remote("s1/a.txt")]);
  const check = join(tmp, "check.txt");
  await b.tcfsJson<PullSummary>(["pull", remote("s1/a.txt"), check]);
  assert.equal(await Deno.readTextFile(check), "B's newer edit\n");
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { servicesStoreEnv } from "../support/services_env.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { servicesStore } from "../support/services_store.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** Deletes every object in `bucket`, as someone emptying it by hand would. */
async function emptyBucket(bucket: string): Promise<number> {
  const store = servicesStore(bucket);
  try {
    const keys = await Array.fromAsync(store.list(""), (info) => info.key);
    for (const key of keys) await store.delete(key);
    return keys.length;
  } finally {
    store.close();
  }
}

Deno.test("after the bucket is emptied, push uploads everything again and pull catches up", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-replaced-" });
  const bucket = `replaced-${crypto.randomUUID().slice(0, 8)}`;
  const a = await makeDeviceHome(tmp, "devA", servicesStoreEnv({ bucket }));
  const b = await makeDeviceHome(tmp, "devB", servicesStoreEnv({ bucket }));
  const src = join(a.home, "lab");
  const dst = join(b.home, "lab");
  await Deno.mkdir(src);
  await writeRandomFile(join(src, "data.bin"), 600_000, 91);
  await Deno.writeTextFile(join(src, "notes.txt"), "first notes");
  await Deno.writeTextFile(join(src, "plan.txt"), "the plan");
  assert.equal((await a.tcfsJson<PushSummary>(["push", src])).files, 3);
  await Deno.writeTextFile(join(src, "notes.txt"), "second notes");
  await a.tcfsJson<PushSummary>(["push", src]);
  assert.equal((await b.tcfsJson<PullSummary>(["pull", `${bucket}/default/lab`, dst])).files, 3);

  assert.ok(await emptyBucket(bucket) > 0);

  // A still has every file unchanged; without telling the stores apart it would call
  // them synced, push nothing and leave the bucket empty.
  const status = await a.tcfsJson<{ path: string; state: string }[]>(["sync-status", src]);
  assert.deepEqual(status.map((row) => row.state), ["new", "new", "new"]);
  const again = await a.tcfsJson<PushSummary>(["push", src]);
  assert.equal(again.files, 3, "every file goes up again");
  assert.ok(again.chunks_uploaded > 0, "data.bin's chunks are stored again, not named");
  const quiet = await a.tcfsJson<PushSummary>(["push", src]);
  assert.equal(quiet.unchanged, 3);

  // A's next edit gets the same version counter as an edit B already saw in the old
  // bucket; B must still take it, and pushing first must not turn it into a conflict.
  await Deno.writeTextFile(join(src, "notes.txt"), "third notes");
  assert.equal((await a.tcfsJson<PushSummary>(["push", src])).files, 1);
  const pushedByB = await b.tcfsJson<PushSummary>(["push", dst]);
  assert.equal(pushedByB.store_replaced, true);
  assert.deepEqual(pushedByB.conflicts, []);
  assert.equal(pushedByB.files, 0, "B's copies are A's files; nothing of B's goes up");
  const pulled = await b.tcfsJson<PullSummary>(["pull", `${bucket}/default/lab`, dst]);
  assert.deepEqual(pulled.conflicts, []);
  assert.equal(await Deno.readTextFile(join(dst, "notes.txt")), "third notes");
  for (const name of ["data.bin", "plan.txt"]) {
    assert.deepEqual(await Deno.readFile(join(dst, name)), await Deno.readFile(join(src, name)));
  }
  const human = await b.tcfs(["pull", `${bucket}/default/lab`, dst]);
  assert.doesNotMatch(human.stdout, /emptied or replaced/, "said once, not on every pull");
  await Deno.remove(tmp, { recursive: true });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { servicesStoreEnv } from "../support/services_env.ts";
import type { PushSummary } from "../../core/sync/transfer_summary.ts";
import type { RemoteEntry } from "../../core/sync/remote_listing.ts";

Deno.test("what a device synced with one store never counts as synced with another", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-switch-" });
  const a = await makeDeviceHome(tmp, "devA", {});
  const file = join(a.home, "notes.txt");
  await Deno.writeTextFile(file, "kept in two places");
  const embedded = await a.tcfsJson<PushSummary>(["push", file]);
  assert.equal(embedded.files, 1);

  const bucket = `switch-${crypto.randomUUID().slice(0, 8)}`;
  const s3 = { env: servicesStoreEnv({ bucket }) };
  const pushed = JSON.parse((await a.tcfs(["push", file, "--json"], s3)).stdout) as PushSummary;
  assert.equal(pushed.files, 1, "the new bucket must receive the file");
  const listed = JSON.parse((await a.tcfs(["ls", "--json"], s3)).stdout) as RemoteEntry[];
  assert.deepEqual(listed.map((e) => e.path), ["notes.txt"]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("the same version key in two stores is read from each store, not from a shared cache", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-switch-" });
  const a = await makeDeviceHome(tmp, "devA", {});
  const file = join(a.home, "notes.txt");
  const inBucket = (bucket: string) => ({ env: servicesStoreEnv({ bucket }) });
  const firstBucket = `switch-${crypto.randomUUID().slice(0, 8)}`;
  const first = inBucket(firstBucket);
  const second = inBucket(`switch-${crypto.randomUUID().slice(0, 8)}`);
  // The device's first version of notes.txt in each bucket: the same key, other bytes.
  await Deno.writeTextFile(file, "what the first bucket holds");
  assert.equal((await a.tcfs(["push", file], first)).code, 0);
  await Deno.writeTextFile(file, "what the second bucket holds");
  assert.equal((await a.tcfs(["push", file], second)).code, 0);

  const pulled = join(tmp, "pulled.txt");
  const result = await a.tcfs(["pull", `${firstBucket}/default/notes.txt`, pulled], first);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await Deno.readTextFile(pulled), "what the first bucket holds");
  await Deno.remove(tmp, { recursive: true });
});

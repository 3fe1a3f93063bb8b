import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { assertSameTree } from "../../support/tree_compare.ts";
import { pathHeads } from "../../../core/sync/sync_context.ts";
import { packKey } from "../../../core/remote/remote_keys.ts";
import { testFleetKeys } from "../../support/test_fleet_keys.ts";

Deno.test("a sealed pull large enough for the opener's thread brings its small files whole, and a damaged chunk fails its own file alone", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-runs-");
  const memory = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", memory);
  using b = await openSyncDevice(tmp.path, "beta", memory);
  a.ctx.keys = b.ctx.keys = await testFleetKeys(a.ctx.device.id);
  // 12 MiB of large files, so that the batch's runs go to the opener's thread
  // (pack_run_prefetch_test.ts shows how), and 400 small text files, side by side in packs.
  await Deno.mkdir(join(a.root, "a-large"));
  for (let i = 0; i < 3; i++) {
    await Deno.writeFile(join(a.root, "a-large", `${i}.bin`), randomBytes(4 << 20, i));
  }
  await Deno.mkdir(join(a.root, "z-small"));
  for (let i = 0; i < 400; i++) {
    const line = `file ${i}: ${"lorem ipsum dolor sit amet ".repeat(1 + i % 100)}\n`;
    await Deno.writeTextFile(join(a.root, "z-small", `${i}.txt`), line);
  }
  assert.equal((await a.pushAll()).files, 403);

  const damaged = "z-small/250.txt";
  const [chunk] = (await pathHeads(a.ctx, damaged)).heads[0].version.chunks;
  assert.ok(chunk.pack !== undefined, "a small file's chunk is in a pack");
  memory.objects.get(packKey(chunk.pack))![chunk.offset! + chunk.length! - 5] ^= 1;

  const pulled = await b.pullAll();
  assert.equal(pulled.files, 402);
  assert.equal(pulled.failures.length, 1);
  assert.equal(pulled.failures[0].path, damaged);
  assert.match(pulled.failures[0].error, /corrupt/);
  await Deno.remove(join(a.root, damaged));
  await assertSameTree(a.root, b.root);
  await tmp.remove();
});

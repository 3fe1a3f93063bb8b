/**
 * Two conflict copies that get the same name must not replace each other:
 * today a copy is named from its loser's device and a one-second clock, and a
 * second copy under that name is written as a newer version of the first.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../support/memory_store.ts";
import { openSyncDevice } from "../support/sync_device.ts";

/**
 * Issue 11, item 12: conflict copies were named from a clock, not from the losing version,
 * so a second copy in the same second replaced the first.
 */

Deno.test({
  name: "two conflict copies named in the same second both survive",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tcfs-copies-" });
    const store = createMemoryStore();
    using alpha = await openSyncDevice(dir, "alpha", store, "auto");
    using charlie = await openSyncDevice(dir, "charlie", store, "auto");
    const second = new Date("2026-12-03T10:00:00.250Z");
    const edit = async (text: string) => {
      await Deno.writeTextFile(join(charlie.root, "p.txt"), text);
      await Deno.utime(join(charlie.root, "p.txt"), second, second);
    };
    await Deno.writeTextFile(join(alpha.root, "p.txt"), "alpha 1\n");
    await alpha.pushAll();
    await edit("charlie's first edit\n");
    await charlie.pushAll(); // loses to alpha: kept as a conflict copy
    await Deno.writeTextFile(join(alpha.root, "p.txt"), "alpha 2\n");
    await alpha.pushAll();
    await edit("charlie's second edit, in the same second\n");
    await charlie.pushAll(); // loses again, under the same copy name
    for (const device of [alpha, charlie, alpha]) await device.pullAll();

    for (const device of [alpha, charlie]) {
      const texts = await Array.fromAsync(
        Deno.readDir(device.root),
        (e) => Deno.readTextFile(join(device.root, e.name)),
      );
      const held = (await Promise.all(texts)).sort();
      assert.ok(held.includes("charlie's first edit\n"), `${device.ctx.device.name}: ${held}`);
      assert.ok(held.includes("charlie's second edit, in the same second\n"));
    }
    await Deno.remove(dir, { recursive: true });
  },
});

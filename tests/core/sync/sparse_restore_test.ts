import assert from "node:assert/strict";
import { join } from "node:path";
import { withTwoDevices } from "../../support/sync_device.ts";
import { randomBytes } from "../../support/random_bytes.ts";

const MIB = 1024 * 1024;

Deno.test("a sparse file pulled stays sparse, and its bytes are the same", async () => {
  await withTwoDevices("tcfs-sparse-", async ({ alpha, bravo }) => {
    // 64 MiB, of which 1 MiB of data in the middle: holes before, after and at the end.
    const image = join(alpha.root, "disk.img");
    const data = randomBytes(MIB, 7);
    {
      using file = await Deno.open(image, { write: true, create: true });
      await file.seek(24 * MIB, Deno.SeekMode.Start);
      await file.write(data);
      await file.truncate(64 * MIB);
    }
    await alpha.pushAll();
    await bravo.pullAll();

    const pulled = join(bravo.root, "disk.img");
    const info = await Deno.stat(pulled);
    assert.equal(info.size, 64 * MIB);
    assert.ok(info.blocks! * 512 < 8 * MIB, `${info.blocks! * 512} bytes on disk`);
    const bytes = await Deno.readFile(pulled);
    assert.deepEqual(bytes.subarray(24 * MIB, 25 * MIB), data);
    assert.ok(bytes.subarray(0, 24 * MIB).every((b) => b === 0));
    assert.ok(bytes.subarray(25 * MIB).every((b) => b === 0));
  });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { readDeviceIdentity } from "../../core/device/device_identity.ts";
import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("device registry", new URL("./targets/device_registry_target.ts", import.meta.url));

// Found by seed 2847047931, case 30: JSON that is not an object threw a TypeError.
Deno.test("a device.json holding JSON null, a number or a list is damaged, not a crash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-fuzz-identity-" });
  try {
    for (const text of ["null", "1", "[]", '"id"']) {
      const file = join(dir, "device.json");
      await Deno.writeTextFile(file, text);
      await assert.rejects(readDeviceIdentity(file), { kind: "device_identity_invalid" }, text);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

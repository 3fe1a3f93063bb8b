import assert from "node:assert/strict";
import { join } from "node:path";
import { readDeviceIdentity } from "../../core/device/device_identity.ts";
import { revokedDevices } from "../../core/device/device_registry.ts";
import { revokedKey } from "../../core/remote/remote_keys.ts";
import { createMemoryStore } from "../support/memory_store.ts";
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

// Found by seed 2955508922, case 9: a marker's revoked_at was used as it stood, and sync compares
// it with versions' written_at as text, so "garbage" (or any text sorting after the digits)
// kept every later version of the revoked device visible.
Deno.test("a revocation marker whose time is not a time counts as revoked since the epoch", async () => {
  const store = createMemoryStore();
  const ids = ["0b8e9a4c-2f36-4c7e-9d4c-3f1f6c2a8e11", "1b8e9a4c-2f36-4c7e-9d4c-3f1f6c2a8e11"];
  const times = ["2026-12-02T0x7fffffffffffffff10:00:00.000Z", "garbage"];
  for (const [n, id] of ids.entries()) {
    await store.put(
      revokedKey(id),
      new TextEncoder().encode(JSON.stringify({ revoked_at: times[n] })),
    );
  }
  const third = "2b8e9a4c-2f36-4c7e-9d4c-3f1f6c2a8e11";
  await store.put(
    revokedKey(third),
    new TextEncoder().encode('{"revoked_at":"2026-12-02T10:00:00Z"}'),
  );
  const revoked = await revokedDevices(store);
  assert.equal(revoked.get(ids[0]), new Date(0).toISOString());
  assert.equal(revoked.get(ids[1]), new Date(0).toISOString());
  assert.equal(
    revoked.get(third),
    "2026-12-02T10:00:00.000Z",
    "a valid time, in the canonical form",
  );
});

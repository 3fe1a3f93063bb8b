import assert from "node:assert/strict";
import { planEnrollment } from "../../../core/device/device_enrollment.ts";
import type { DeviceRecord } from "../../../core/device/device_record.ts";
import { TcfsError } from "../../../core/errors.ts";

const KEY_A = "age1" + "q".repeat(58);
const KEY_B = "age1" + "p".repeat(58);

function record(name: string, key: string, extra: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    format: 1,
    id: crypto.randomUUID(),
    name,
    age_public_key: key,
    platform: "linux-x86_64",
    tcfs_version: "0.7.0",
    enrolled_at: "2026-11-25T12:00:00.000Z",
    last_seen: "2026-11-25T12:00:00.000Z",
    revoked: false,
    ...extra,
  };
}

const refusal = (kind: string) => (err: unknown) => err instanceof TcfsError && err.kind === kind;

Deno.test("the id in device.json is kept", () => {
  const yoga = record("yoga", KEY_A);
  const plan = planEnrollment([yoga], {
    name: "yoga",
    agePublicKey: KEY_A,
    knownId: yoga.id,
    replace: false,
  });
  assert.deepEqual(plan, { id: yoga.id, origin: "device_file" });
});

Deno.test("without device.json, the same name and age key recover the id; either alone does not", () => {
  const yoga = record("yoga", KEY_A);
  assert.deepEqual(
    planEnrollment([yoga], { name: "yoga", agePublicKey: KEY_A, replace: false }),
    { id: yoga.id, origin: "age_key" },
  );
  // Same key, other name: a host sharing the key is another device.
  const other = planEnrollment([yoga], { name: "bates", agePublicKey: KEY_A, replace: false });
  assert.equal(other.origin, "new");
  assert.notEqual(other.id, yoga.id);
  // Same name, other key: the name is taken.
  assert.throws(
    () => planEnrollment([yoga], { name: "yoga", agePublicKey: KEY_B, replace: false }),
    refusal("device_name_taken"),
  );
});

Deno.test("a name held by another live device is refused unless replace, which names the holder", () => {
  const yoga = record("yoga", KEY_A);
  assert.throws(
    () => planEnrollment([yoga], { name: "yoga", agePublicKey: KEY_B, replace: false }),
    refusal("device_name_taken"),
  );
  const plan = planEnrollment([yoga], { name: "yoga", agePublicKey: KEY_B, replace: true });
  assert.equal(plan.origin, "new");
  assert.equal(plan.displaced?.id, yoga.id);
});

Deno.test("names held only by revoked or replaced devices are free", () => {
  const revoked = record("yoga", KEY_A, { revoked: true });
  const replaced = record("yoga", KEY_A, { replaced_by: crypto.randomUUID() });
  const plan = planEnrollment([revoked, replaced], {
    name: "yoga",
    agePublicKey: KEY_B,
    replace: false,
  });
  assert.equal(plan.origin, "new");
  assert.equal(plan.displaced, undefined);
});

Deno.test("a revoked device can't enroll under its old id, nor be recovered by its key", () => {
  const revoked = record("yoga", KEY_A, { revoked: true });
  assert.throws(
    () =>
      planEnrollment([revoked], {
        name: "yoga",
        agePublicKey: KEY_A,
        knownId: revoked.id,
        replace: true,
      }),
    refusal("device_revoked"),
  );
  assert.equal(
    planEnrollment([revoked], { name: "yoga", agePublicKey: KEY_A, replace: false }).origin,
    "new",
  );
});

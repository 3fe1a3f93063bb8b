import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { freshFleetBucket } from "../support/fleet_bucket.ts";
import { revokedKey } from "../../core/remote/remote_keys.ts";
import type { DeviceRecord } from "../../core/device/device_record.ts";
import { storeSegments } from "../support/journal_store.ts";
import type { RemoteEntry } from "../../core/sync/remote_listing.ts";

Deno.test("a revoked device can't push, and what it writes anyway is ignored by the others", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-revoke-" });
  const fleet = freshFleetBucket();
  const a = await makeDeviceHome(tmp, "devA", fleet.env);
  const b = await makeDeviceHome(tmp, "devB", fleet.env);
  const remote = (rel: string) => `${fleet.bucket}/default/${rel}`;
  // Plaintext: this is the registry's revocation; device_keys_test.ts holds the key epochs.
  const enrolled = await Promise.all(
    [a, b].map((d) =>
      d.tcfsJson<{ id: string }>([
        "device",
        "enroll",
        "--name",
        d.name,
        "--no-service",
        "--no-encrypt",
      ])
    ),
  );
  const idB = enrolled[1].id;

  // Before revocation B's versions are part of the fleet's view.
  await Deno.writeTextFile(join(b.home, "before.txt"), "from B, before\n");
  await b.tcfsJson(["push", join(b.home, "before.txt"), remote("before.txt")]);
  const seen = await a.tcfsJson<RemoteEntry[]>(["ls", remote("")]);
  assert.deepEqual(seen.map((e) => e.path), ["before.txt"]);

  const revoked = await a.tcfsJson<{ device: DeviceRecord; already_revoked: boolean }>([
    "device",
    "revoke",
    "devB",
  ]);
  assert.equal(revoked.device.id, idB);
  assert.equal(revoked.already_revoked, false);
  const listed = await a.tcfsJson<(DeviceRecord & { status: string })[]>(["device", "list"]);
  assert.deepEqual(listed.map((d) => `${d.name}:${d.status}`), ["devA:active", "devB:revoked"]);
  const status = await b.tcfsJson<{ registration: { state: string } }>(["device", "status"]);
  assert.equal(status.registration.state, "revoked");

  // B's own tcfs refuses to push, and writes nothing.
  await Deno.writeTextFile(join(b.home, "after.txt"), "from B, after revocation\n");
  const refused = await b.tcfs(["push", join(b.home, "after.txt"), remote("after.txt"), "--json"]);
  assert.equal(refused.code, 1);
  assert.equal(JSON.parse(refused.stdout).error.kind, "device_revoked");
  const human = await b.tcfs(["push", join(b.home, "after.txt"), remote("after.txt")]);
  assert.match(human.stderr, /has been revoked: it may no longer push/);
  await using store = await fleet.openStore();
  const versionsBy = async (device: string) =>
    (await storeSegments(store)).filter((s) => s.device === device).flatMap((s) => s.versions);
  assert.equal((await versionsBy(idB)).length, 1, "only the version from before the revocation");

  // A tcfs that ignores revocation (simulated: the marker is out of its way while it pushes)
  // can still write, since it holds the bucket's keys...
  const marker = (await store.get(revokedKey(idB)))!;
  await store.delete(revokedKey(idB));
  await b.tcfsJson(["push", join(b.home, "after.txt"), remote("after.txt")]);
  await store.put(revokedKey(idB), marker);
  assert.equal((await versionsBy(idB)).length, 2, "B's late version is in the store");

  // ...but the fleet ignores it: A neither lists nor pulls it.
  const listing = await a.tcfsJson<RemoteEntry[]>(["ls", remote("")]);
  assert.ok(!listing.some((e) => e.path === "after.txt"), JSON.stringify(listing));
  const pulled = await a.tcfs(["pull", remote("after.txt"), join(a.home, "after.txt")]);
  assert.notEqual(pulled.code, 0);
  assert.equal(await Deno.stat(join(a.home, "after.txt")).catch(() => null), null);

  // B can't come back under its old id either.
  const rejoin = await b.tcfs(["device", "enroll", "--name", "devB", "--no-service"]);
  assert.equal(rejoin.code, 1);
  assert.match(rejoin.stderr, /has been revoked/);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("revoke: again is a no-op, itself and unknown names are refused", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-revoke-" });
  const fleet = freshFleetBucket();
  const a = await makeDeviceHome(tmp, "devA", fleet.env);
  const b = await makeDeviceHome(tmp, "devB", fleet.env);
  for (const d of [a, b]) await d.tcfsJson(["device", "enroll", "--name", d.name, "--no-service"]);
  await a.tcfsJson(["device", "revoke", "devB"]);
  const again = await a.tcfsJson<{ already_revoked: boolean }>(["device", "revoke", "devB"]);
  assert.equal(again.already_revoked, true);
  const self = await a.tcfs(["device", "revoke", "devA"]);
  assert.equal(self.code, 2);
  assert.match(self.stderr, /is this device/);
  const unknown = await a.tcfs(["device", "revoke", "nobody"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no device "nobody" is registered/);
  await Deno.remove(tmp, { recursive: true });
});

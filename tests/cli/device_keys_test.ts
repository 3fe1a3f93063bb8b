import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { freshFleetBucket } from "../support/fleet_bucket.ts";
import { assertSameTree, snapshotTree } from "../support/tree_compare.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import {
  keychainKey,
  namespaceSealingKey,
  RECOVERY_IDENTITY_KEY,
} from "../../core/remote/remote_keys.ts";
import { CHUNK_FORMAT_SEALED } from "../../core/chunking/chunk_codec.ts";
import type { EnrollmentKeys } from "../../core/crypto/enrollment_keys.ts";
import { approveInvitedDevices } from "../../core/crypto/invited_approvals.ts";
import { StateDb } from "../../core/state/state_db.ts";
import { readDeviceIdentity } from "../../core/device/device_identity.ts";
import { tcfsPaths } from "../../platform/tcfs_paths.ts";

const PASSPHRASE = "correct horse battery staple 7";

interface EnrollJson {
  id: string;
  keys: EnrollmentKeys & { recovered: boolean; approve_command: string | null };
}

/** Devices sharing a fresh bucket, each with a daemon socket of its own (none runs). */
async function keyFleet() {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-keys-" });
  const fleet = freshFleetBucket();
  const device = (name: string) =>
    makeDeviceHome(tmp, name, { ...fleet.env, TCFS_SOCKET: join(tmp, `${name}.sock`) });
  const remote = (rel: string) => `${fleet.bucket}/default/${rel}`;
  return { tmp, fleet, device, remote };
}

function enroll(d: DeviceHome, ...args: string[]) {
  return d.tcfsJson<EnrollJson>(["device", "enroll", "--name", d.name, "--no-service", ...args]);
}

/** A tree with known names and contents: text, an empty file, and chunks of random bytes. */
async function writeTree(root: string): Promise<void> {
  await Deno.mkdir(join(root, "docs", "deep"), { recursive: true });
  await Deno.writeTextFile(join(root, "docs", "tax-return-2026.txt"), "my secret income\n");
  await Deno.writeFile(join(root, "docs", "empty"), new Uint8Array());
  await writeRandomFile(join(root, "docs", "deep", "photo.raw"), 3 * 1024 * 1024 + 17, 5);
}

Deno.test("first device seals the fleet; others read only once approved; revoke locks a device out of what is new; the recovery passphrase lets a fresh machine in", async () => {
  const { tmp, fleet, device, remote } = await keyFleet();
  const [a, b] = [await device("devA"), await device("devB")];
  const passFile = join(tmp, "passphrase");
  await Deno.writeTextFile(passFile, `${PASSPHRASE}\n`);

  // The fleet's first device: epoch 1, the recovery identity sealed with the passphrase, the
  // empty namespace sealed.
  const first = await enroll(a, "--recovery-passphrase-file", passFile);
  assert.equal(first.keys.keychain, "created");
  assert.equal(first.keys.epoch, 1);
  assert.equal(first.keys.recovery, "passphrase");
  assert.deepEqual(first.keys.namespace, { name: "default", sealed: true, sealed_now: true });
  await using store = await fleet.openStore();
  for (const key of [keychainKey(1), RECOVERY_IDENTITY_KEY, namespaceSealingKey("default")]) {
    assert.ok(await store.has(key), key);
  }

  await writeTree(join(a.home, "tree"));
  await a.tcfsJson(["push", join(a.home, "tree"), remote("tree")]);
  // Every pack and journal object is a sealed box; only the two markers are plaintext.
  let sealed = 0;
  for (const prefix of ["ns/", "packs/"]) {
    for await (const { key } of store.list(prefix)) {
      if (/\/(encryption|journal)\.json$/.test(key)) continue;
      const body = (await store.get(key))!;
      assert.equal(body[0], CHUNK_FORMAT_SEALED, `${key} starts with ${body[0]}`);
      sealed++;
    }
  }
  assert.ok(sealed >= 2, `${sealed} sealed objects`);

  // A second device is pending: its pull fails and says what to run.
  const second = await enroll(b);
  assert.equal(second.keys.keychain, "pending");
  assert.equal(second.keys.approve_command, "tcfs device approve devB");
  const refused = await b.tcfs(["pull", remote("tree"), join(b.home, "tree")]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /tcfs device approve devB/);
  const listed = await a.tcfsJson<{ name: string; key_access: string }[]>(["device", "list"]);
  assert.deepEqual(listed.map((d) => `${d.name}:${d.key_access}`), [
    "devA:approved",
    "devB:not_approved",
  ]);
  const unknown = await b.tcfsJson<{ key_access: string }[]>(["device", "list"]);
  assert.deepEqual(unknown.map((d) => d.key_access), ["unknown", "unknown"]);

  // Approved on A, B reads every file byte for byte; approving again changes nothing.
  const approved = await a.tcfsJson<{ epoch: number; already_approved: boolean }>([
    "device",
    "approve",
    "devB",
  ]);
  assert.deepEqual(approved, { ...approved, epoch: 1, already_approved: false });
  const again = await a.tcfsJson<{ already_approved: boolean }>(["device", "approve", "devB"]);
  assert.equal(again.already_approved, true);
  await b.tcfsJson(["pull", remote("tree"), join(b.home, "tree")]);
  await assertSameTree(join(a.home, "tree"), join(b.home, "tree"));
  const pulledByB = await snapshotTree(join(b.home, "tree"));
  const creds = await b.tcfsJson<{ keys: { keychain: string; epoch: number } }>([
    "creds",
    "status",
  ]);
  assert.deepEqual([creds.keys.keychain, creds.keys.epoch], ["approved", 1]);

  // Revoking B starts epoch 2 without it: what A writes next is closed to B.
  const revoked = await a.tcfsJson<{ key_epoch: { epoch: number; started: boolean } }>([
    "device",
    "revoke",
    "devB",
  ]);
  assert.deepEqual(revoked.key_epoch, { epoch: 2, started: true });
  await Deno.writeTextFile(join(a.home, "tree", "after.txt"), "written after devB left\n");
  await a.tcfsJson(["push", join(a.home, "tree", "after.txt"), remote("tree/after.txt")]);
  const closed = await b.tcfs([
    "pull",
    remote("tree/after.txt"),
    join(b.home, "after.txt"),
    "--json",
  ]);
  assert.notEqual(closed.code, 0);
  assert.equal(JSON.parse(closed.stdout).error.kind, "not_approved");
  await assert.rejects(Deno.stat(join(b.home, "after.txt")), Deno.errors.NotFound);
  // What B pulled before stays as it was.
  assert.deepEqual(await snapshotTree(join(b.home, "tree")), pulledByB);

  // A wrong passphrase is refused before anything is written.
  const d = await device("devD");
  const wrong = await d.tcfs([
    "device",
    "enroll",
    "--name",
    "devD",
    "--no-service",
    "--recovery",
    "--json",
  ], {
    env: { TCFS_RECOVERY_PASSPHRASE: "not the passphrase" },
  });
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.equal(JSON.parse(wrong.stdout).error.kind, "recovery_failed");
  const names = await a.tcfsJson<{ name: string }[]>(["device", "list"]);
  assert.ok(!names.some((n) => n.name === "devD"), JSON.stringify(names));

  // A fresh machine with only the endpoint and the passphrase gets every file back.
  const c = await device("devC");
  const recovered = await c.tcfs(
    ["device", "enroll", "--name", "devC", "--no-service", "--recovery", "--json"],
    { env: { TCFS_RECOVERY_PASSPHRASE: PASSPHRASE } },
  );
  assert.equal(recovered.code, 0, recovered.stderr);
  const keys = (JSON.parse(recovered.stdout) as EnrollJson).keys;
  assert.deepEqual([keys.keychain, keys.epoch, keys.recovered], ["approved", 2, true]);
  await c.tcfsJson(["pull", remote("tree"), join(c.home, "tree")]);
  await assertSameTree(join(a.home, "tree"), join(c.home, "tree"));
  const doctor = await c.tcfsJson<{ checks: { name: string; status: string; detail: string }[] }>(
    ["doctor"],
    { allowCodes: [1] },
  );
  const check = doctor.checks.find((k) => k.name === "keys")!;
  assert.equal(check.status, "ok");
  assert.match(check.detail, /approved for key epoch 2/);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("a flipped bit in the newest keychain fails clearly and writes nothing", async () => {
  const { tmp, fleet, device, remote } = await keyFleet();
  const a = await device("devA");
  await enroll(a, "--no-recovery");
  await writeTree(join(a.home, "tree"));
  await a.tcfsJson(["push", join(a.home, "tree"), remote("tree")]);
  await using store = await fleet.openStore();
  const body = (await store.get(keychainKey(1)))!;
  const flipped = body.slice();
  flipped[flipped.length - 20] ^= 0x01;
  await store.put(keychainKey(1), flipped);

  const pulled = await a.tcfs(["pull", remote("tree"), join(a.home, "copy"), "--json"]);
  assert.equal(pulled.code, 1, pulled.stderr);
  const error = JSON.parse(pulled.stdout).error;
  assert.equal(error.kind, "sealed_damaged");
  assert.match(error.message, /tcfs-meta\/keys\/0000000001 cannot be opened/);
  await assert.rejects(Deno.stat(join(a.home, "copy")), Deno.errors.NotFound);
  const pushed = await a.tcfs(["push", join(a.home, "tree"), remote("tree"), "--json"]);
  assert.equal(JSON.parse(pushed.stdout).error.kind, "sealed_damaged");
  assert.deepEqual(await store.get(keychainKey(1)), flipped);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("without a passphrase or a terminal the first device writes a 0600 recovery key file, and the key lets a fresh machine in", async () => {
  const { tmp, fleet, device, remote } = await keyFleet();
  const a = await device("devA");
  const first = await a.tcfs(["device", "enroll", "--name", "devA", "--no-service"]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stdout,
    /RECOVERY KEY +written to .*recovery-key\.txt \(mode 0600\): store it offline/,
  );
  const keyFile = join(a.home, ".config", "tcfs", "recovery-key.txt");
  assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
  const key = await Deno.readTextFile(keyFile);
  assert.ok(!first.stdout.includes(key.match(/AGE-SECRET-KEY-1\S+/)![0]), "the key is not printed");
  await using store = await fleet.openStore();
  assert.equal(await store.has(RECOVERY_IDENTITY_KEY), false);

  await writeTree(join(a.home, "tree"));
  await a.tcfsJson(["push", join(a.home, "tree"), remote("tree")]);
  const c = await device("devC");
  const recovered = await enroll(c, "--recovery", "--recovery-key-file", keyFile);
  assert.deepEqual([recovered.keys.keychain, recovered.keys.recovered], ["approved", true]);
  await c.tcfsJson(["pull", remote("tree"), join(c.home, "tree")]);
  await assertSameTree(join(a.home, "tree"), join(c.home, "tree"));
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("--no-encrypt keeps a fresh fleet without keys and its namespace plaintext; approve is then a no-op", async () => {
  const { tmp, fleet, device } = await keyFleet();
  const [a, b] = [await device("devA"), await device("devB")];
  const first = await enroll(a, "--no-encrypt");
  assert.equal(first.keys.keychain, "none");
  assert.deepEqual(first.keys.namespace, { name: "default", sealed: false, sealed_now: false });
  await enroll(b, "--no-encrypt");
  await using store = await fleet.openStore();
  assert.equal(await store.has(keychainKey(1)), false);
  const approve = await a.tcfsJson<{ keychain: string }>(["device", "approve", "devB"]);
  assert.equal(approve.keychain, "none");
  for (const name of ["nobody"]) {
    const unknown = await a.tcfs(["device", "approve", name]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no device "nobody" is registered/);
  }
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("device invite gives a one-time token; enroll --invite files a claim an approved device settles", async () => {
  const { tmp, fleet, device } = await keyFleet();
  const [a, b] = [await device("devA"), await device("devB")];
  await enroll(a, "--no-recovery");
  const bad = await a.tcfs(["device", "invite", "--expires", "soon"]);
  assert.equal(bad.code, 2, bad.stderr);
  const { token } = await a.tcfsJson<{ token: string }>(["device", "invite", "--expires", "1h"]);
  assert.match(token, /^tcfs-invite-[0-9a-f]{40}$/);
  const invited = await enroll(b, "--invite", token);
  assert.equal(invited.keys.keychain, "pending");
  assert.equal((invited.keys as { invited?: boolean }).invited, true);
  const pending = await b.tcfs(["device", "invite"]);
  assert.equal(pending.code, 1);
  assert.match(pending.stderr, /not approved, so it cannot invite/);

  // What devA's daemon does each poll interval.
  await using store = await fleet.openStore();
  const paths = tcfsPaths(a.env);
  const state = await StateDb.open(paths.stateDb);
  try {
    const me = (await readDeviceIdentity(paths.deviceFile))!;
    const holder = { id: me.id, name: me.name, ageKeyFile: paths.ageKeyFile };
    assert.deepEqual(await approveInvitedDevices(store, state, holder), ["devB"]);
    assert.deepEqual(await approveInvitedDevices(store, state, holder), []);
  } finally {
    state.close();
  }
  const c = await device("devC");
  const again = await c.tcfs([
    "device",
    "enroll",
    "--name",
    "devC",
    "--no-service",
    "--invite",
    token,
  ]);
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /used already, expired, or never existed/);
  const listed = await a.tcfsJson<{ name: string }[]>(["device", "list"]);
  assert.ok(!listed.some((d) => d.name === "devC"), "a refused token registers nothing");
  const status = await b.tcfsJson<{ keys: { keychain: string } }>(["creds", "status"]);
  assert.equal(status.keys.keychain, "approved");
  await Deno.remove(tmp, { recursive: true });
});

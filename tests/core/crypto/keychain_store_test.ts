import assert from "node:assert/strict";
import { join } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { createMemoryStore } from "../../support/memory_store.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { StateDb } from "../../../core/state/state_db.ts";
import { firstKeychain, nextEpoch, withRecipient } from "../../../core/crypto/fleet_keychain.ts";
import { readKeychain, writeKeychain } from "../../../core/crypto/keychain_store.ts";
import { deviceKeychainAccess } from "../../../core/crypto/device_keys.ts";
import { isNamespaceSealed, markNamespaceSealed } from "../../../core/crypto/namespace_sealing.ts";
import { keychainKey, namespaceSealingKey } from "../../../core/remote/remote_keys.ts";
import { TcfsError } from "../../../core/errors.ts";

interface TestDevice {
  id: string;
  identity: string;
  recipient: string;
}

async function testDevice(): Promise<TestDevice> {
  const identity = await generateIdentity();
  return { id: crypto.randomUUID(), identity, recipient: await identityToRecipient(identity) };
}

function kindOf(kind: string) {
  return (err: unknown) => {
    assert.ok(err instanceof TcfsError, String(err));
    assert.equal(err.kind, kind, err.message);
    return true;
  };
}

/** A device with its age key file and state db under a temp dir, holding epochs 1 and 2. */
async function deviceAtEpochTwo(prefix: string) {
  const tmp = await makeScopedTempDir(prefix);
  const store = createMemoryStore();
  const a = await testDevice();
  const ageKeyFile = join(tmp.path, "keys.txt");
  await Deno.writeTextFile(ageKeyFile, `${a.identity}\n`, { mode: 0o600 });
  const state = await StateDb.open(join(tmp.path, "state.db"));
  const first = firstKeychain(a.id, a.recipient, undefined);
  await writeKeychain(store, first);
  await writeKeychain(store, nextEpoch(first, a.id, () => true));
  return {
    store,
    state,
    first,
    device: a,
    holder: { id: a.id, name: "alpha", ageKeyFile },
    async [Symbol.asyncDispose]() {
      state.close();
      await tmp.remove();
    },
  };
}

Deno.test("approving and revoking: who can open the newest keychain, and races on rewrites", async () => {
  const store = createMemoryStore();
  const [a, b] = [await testDevice(), await testDevice()];
  assert.deepEqual(await readKeychain(store, a.identity), { state: "none" });

  const first = firstKeychain(a.id, a.recipient, undefined);
  assert.equal(await writeKeychain(store, first), true);
  assert.equal(await writeKeychain(store, first), false, "an epoch is written once");
  assert.deepEqual(await readKeychain(store, b.identity), { state: "pending", epoch: 1 });
  const read = await readKeychain(store, a.identity);
  assert.equal(read.state, "approved");
  if (read.state !== "approved") return;
  assert.deepEqual(read.stored.keychain.keys, first.keys);

  const approved = withRecipient(read.stored.keychain, a.id, b.id, b.recipient);
  assert.equal(await writeKeychain(store, approved, read.stored.etag), true);
  assert.equal(
    await writeKeychain(store, approved, read.stored.etag),
    false,
    "a rewrite from a stale read loses",
  );
  assert.equal((await readKeychain(store, b.identity)).state, "approved");

  const revoked = nextEpoch(approved, a.id, (id) => id !== b.id);
  assert.equal(await writeKeychain(store, revoked), true);
  assert.deepEqual(await readKeychain(store, b.identity), { state: "pending", epoch: 2 });
  const after = await readKeychain(store, a.identity);
  assert.equal(after.state === "approved" && after.stored.keychain.epoch, 2);
  assert.equal(after.state === "approved" && after.stored.keychain.keys["1"], first.keys["1"]);
});

Deno.test("a keychain forged by someone holding only the bucket keys is refused by a device that held the epoch before", async () => {
  const store = createMemoryStore();
  const a = await testDevice();
  await writeKeychain(store, firstKeychain(a.id, a.recipient, undefined));
  // The forger knows A's public key (the registry shows it) but not epoch 1's key.
  const forged = { ...firstKeychain(a.id, a.recipient, undefined), epoch: 2 };
  forged.keys = { "1": forged.keys["1"], "2": forged.keys["1"] };
  assert.equal(await writeKeychain(store, forged), true);
  await assert.rejects(readKeychain(store, a.identity), kindOf("keychain_invalid"));
});

Deno.test("a flipped bit in a keychain is an error, never garbage keys", async () => {
  const store = createMemoryStore();
  const a = await testDevice();
  await writeKeychain(store, firstKeychain(a.id, a.recipient, undefined));
  const body = store.objects.get(keychainKey(1))!;
  for (const at of [body.length - 3, Math.floor(body.length / 3)]) {
    const flipped = body.slice();
    flipped[at] ^= 0x04;
    store.objects.set(keychainKey(1), flipped);
    await assert.rejects(readKeychain(store, a.identity), (err: unknown) => {
      assert.ok(err instanceof TcfsError);
      assert.ok(["sealed_damaged", "keychain_invalid"].includes(err.kind), err.kind);
      return true;
    });
  }
});

Deno.test("a store cannot roll a device back to an older epoch or to plaintext", async () => {
  await using d = await deviceAtEpochTwo("tcfs-keychain-rollback-");
  const { store, state, holder } = d;
  const access = await deviceKeychainAccess(store, state, holder);
  assert.equal(access.state === "approved" && access.stored.keychain.epoch, 2);

  store.objects.delete(keychainKey(2));
  await assert.rejects(deviceKeychainAccess(store, state, holder), kindOf("keychain_rollback"));

  assert.equal(await markNamespaceSealed(store, "default", 2, d.device.id), true);
  assert.equal(await markNamespaceSealed(store, "default", 2, d.device.id), false);
  assert.equal(await isNamespaceSealed(store, state, "default"), true);
  store.objects.delete(namespaceSealingKey("default"));
  await assert.rejects(isNamespaceSealed(store, state, "default"), kindOf("keychain_rollback"));
  assert.equal(await isNamespaceSealed(store, undefined, "default"), false);
});

Deno.test("a keychain rewritten in place with another key for a known epoch is refused", async () => {
  await using d = await deviceAtEpochTwo("tcfs-keychain-replaced-");
  const { store, state, holder } = d;
  assert.equal((await deviceKeychainAccess(store, state, holder)).state, "approved");
  // A revoked device knows epoch 1's key, so it can make an epoch 2 that extends epoch 1.
  const replaced = nextEpoch(d.first, crypto.randomUUID(), () => true);
  store.objects.delete(keychainKey(2));
  assert.equal(await writeKeychain(store, replaced), true);
  await assert.rejects(deviceKeychainAccess(store, state, holder), kindOf("keychain_invalid"));
});

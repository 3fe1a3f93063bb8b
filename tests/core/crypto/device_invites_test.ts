import assert from "node:assert/strict";
import { createMemoryStore } from "../../support/memory_store.ts";
import { firstKeychain, nextEpoch } from "../../../core/crypto/fleet_keychain.ts";
import { fleetKeysOf } from "../../../core/crypto/fleet_keys.ts";
import {
  type CheckedClaim,
  claimInvitation,
  createInvitation,
  INVITES_PREFIX,
  settleClaims,
} from "../../../core/crypto/device_invites.ts";
import { TcfsError } from "../../../core/errors.ts";
import { TEST_RECIPIENT, testFleetKeys } from "../../support/test_fleet_keys.ts";

const OTHER = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";

async function keys() {
  return await testFleetKeys();
}

Deno.test("an invited device is approved once, by the token it knew; forged and late claims never", async () => {
  const store = createMemoryStore();
  const fleet = await keys();
  const inviter = crypto.randomUUID();
  const { token } = await createInvitation(store, fleet, inviter);
  const invited = crypto.randomUUID();
  const forger = crypto.randomUUID();
  await claimInvitation(store, token, invited, OTHER);
  // Someone with only the bucket keys sees the invitation's id, and copies the claim's shape.
  const [claimKey] = [...store.objects.keys()].filter((k) => k.includes(".claim-"));
  const claim = JSON.parse(new TextDecoder().decode(store.objects.get(claimKey)!));
  store.objects.set(
    claimKey.replace(invited, forger),
    new TextEncoder().encode(
      JSON.stringify({ ...claim, device: forger, recipient: TEST_RECIPIENT }),
    ),
  );

  const approved: CheckedClaim[] = [];
  await settleClaims(store, fleet, (c) => Promise.resolve(approved.push(c) > 0));
  assert.deepEqual(approved, [{ device: invited, recipient: OTHER, invitedBy: inviter }]);
  assert.deepEqual([...store.objects.keys()].filter((k) => k.startsWith(INVITES_PREFIX)), []);
  await assert.rejects(
    claimInvitation(store, token, crypto.randomUUID(), OTHER),
    (err: unknown) => err instanceof TcfsError && /used already/.test(err.message),
  );
});

Deno.test("an expired invitation approves no one, and one sealed with other keys (forged) is dropped", async () => {
  const store = createMemoryStore();
  const fleet = await keys();
  const expired = await createInvitation(store, fleet, crypto.randomUUID(), 1000, new Date(0));
  await claimInvitation(store, expired.token, crypto.randomUUID(), OTHER);
  const stranger = await keys();
  const { token: live } = await createInvitation(store, fleet, crypto.randomUUID());
  await claimInvitation(store, live, crypto.randomUUID(), OTHER);
  // A fleet with other keys (a forged invitation) opens nothing: its invitations are dropped.
  assert.deepEqual(await settleClaims(store, stranger, () => Promise.resolve(true)), []);
  assert.deepEqual([...store.objects.keys()].filter((k) => k.startsWith(INVITES_PREFIX)), []);
  await assert.rejects(
    claimInvitation(store, "tcfs-invite-nope", crypto.randomUUID(), OTHER),
    (err: unknown) => err instanceof TcfsError && err.kind === "invalid_argument",
  );
});

Deno.test("an invitation sealed with an epoch a daemon lacks is left for one that has it", async () => {
  const store = createMemoryStore();
  const first = firstKeychain(crypto.randomUUID(), TEST_RECIPIENT, undefined);
  const older = await fleetKeysOf(first);
  const newer = await fleetKeysOf(nextEpoch(first, first.written_by, () => true));
  const { token } = await createInvitation(store, newer, first.written_by);
  const invited = crypto.randomUUID();
  await claimInvitation(store, token, invited, OTHER);
  assert.deepEqual(await settleClaims(store, older, () => Promise.resolve(true)), []);
  const approved = await settleClaims(store, newer, () => Promise.resolve(true));
  assert.deepEqual(approved.map((c) => c.device), [invited]);
});

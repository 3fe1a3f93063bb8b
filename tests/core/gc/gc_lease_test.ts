/**
 * The gc lease on every store kind: the tests' memory store, the fs store in a temp dir and
 * the services SeaweedFS (a bucket of this file's own, since the lease is one per bucket).
 * Devices' clocks are functions the tests set, so expiry needs no waiting.
 */

import assert from "node:assert/strict";
import {
  GC_LEASE_CLOCK_MARGIN_MS,
  type GcLease,
  type GcLeaseDevice,
  type GcLeaseHeld,
  takeGcLease,
} from "../../../core/gc/gc_lease.ts";
import { GC_LEASE_PREFIX, gcLeaseKey, parseGcLeaseKey } from "../../../core/remote/remote_keys.ts";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { withFaults } from "../../support/faulty_store.ts";
import { freshFleetBucket } from "../../support/fleet_bucket.ts";
import { createMemoryStore } from "../../support/memory_store.ts";

interface Backend {
  name: string;
  /** An empty store for one test, and how to put it away. */
  open(): Promise<{ store: ObjectStore; done(): Promise<void> }>;
}

/** This file's SeaweedFS bucket, made on first use. */
let s3Bucket: ReturnType<typeof freshFleetBucket> | undefined;

const backends: Backend[] = [
  {
    name: "memory",
    open: () => Promise.resolve({ store: createMemoryStore(), done: () => Promise.resolve() }),
  },
  {
    name: "fs",
    async open() {
      const dir = await Deno.makeTempDir({ prefix: "tcfs-gc-lease-" });
      return { store: createFsStore(dir), done: () => Deno.remove(dir, { recursive: true }) };
    },
  },
  {
    name: "s3",
    async open() {
      s3Bucket ??= freshFleetBucket();
      const store = await s3Bucket.openStore();
      const empty = async () => {
        for await (const { key } of store.list("tcfs-meta/gc/")) await store.delete(key);
      };
      await empty();
      return { store, done: () => empty().finally(() => store.close()) };
    },
  },
];

function leaseTest(name: string, fn: (store: ObjectStore) => Promise<void>) {
  for (const backend of backends) {
    Deno.test(`${backend.name} store: ${name}`, async () => {
      const { store, done } = await backend.open();
      try {
        await fn(store);
      } finally {
        await done();
      }
    });
  }
}

const T0 = Date.parse("2026-12-03T08:00:00.000Z");
const TTL = 60_000;
/** The first moment others may take a lease that expires at `expiresAt`. */
const takeableAfter = (expiresAt: number) => expiresAt + GC_LEASE_CLOCK_MARGIN_MS + 1;
const at = (ms: number) => () => ms;

const devices: GcLeaseDevice[] = Array.from(
  { length: 8 },
  (_, i) => ({ id: crypto.randomUUID(), name: `dev${i}` }),
);
const [devA, devB, devC] = devices;

function isLease(result: GcLease | GcLeaseHeld): result is GcLease {
  return !("heldBy" in result);
}

async function taken(result: Promise<GcLease | GcLeaseHeld>): Promise<GcLease> {
  const answer = await result;
  if (isLease(answer)) return answer;
  throw new assert.AssertionError({ message: `expected the lease, but it is ${answer.message}` });
}

async function refused(result: Promise<GcLease | GcLeaseHeld>): Promise<GcLeaseHeld> {
  const answer = await result;
  if (!isLease(answer)) return answer;
  throw new assert.AssertionError({ message: `expected the lease held, but took ${answer.key}` });
}

const leaseKeys = (store: ObjectStore) =>
  Array.fromAsync(store.list(GC_LEASE_PREFIX), (info) => info.key);

async function leaseRecord(store: ObjectStore, n: number): Promise<Record<string, unknown>> {
  const body = await store.get(gcLeaseKey(n));
  assert.ok(body, `lease ${n} is missing`);
  return JSON.parse(new TextDecoder().decode(body));
}

/** Writes lease object `n` as `device` would have, expiring at `expiresAt`. */
async function writeLease(store: ObjectStore, n: number, device: GcLeaseDevice, expiresAt: number) {
  const record = {
    device: device.id,
    device_name: device.name,
    taken_at: new Date(expiresAt - TTL).toISOString(),
    expires_at: new Date(expiresAt).toISOString(),
    n,
  };
  await store.put(gcLeaseKey(n), new TextEncoder().encode(JSON.stringify(record)));
}

Deno.test("gc lease keys sort by number and parse back; other keys are not leases", () => {
  assert.equal(gcLeaseKey(7), "tcfs-meta/gc/lease-0000000000000007.json");
  assert.ok(gcLeaseKey(9) < gcLeaseKey(10));
  assert.equal(parseGcLeaseKey(gcLeaseKey(123456)), 123456);
  for (
    const key of [
      "tcfs-meta/gc/lease-0000000000000000.json",
      "tcfs-meta/gc/lease-7.json",
      "tcfs-meta/gc/lease-0000000000000007.json.tmp",
      "tcfs-meta/gc/condemned/0000000000000007.json",
    ]
  ) {
    assert.equal(parseGcLeaseKey(key), undefined, key);
  }
  assert.throws(() => gcLeaseKey(0), { kind: "gc_lease_invalid" });
});

leaseTest(
  "of devices racing for the lease, exactly one takes it, round after round",
  async (store) => {
    let now = T0;
    for (let round = 1; round <= 3; round++) {
      const results = await Promise.all(
        devices.map((device) => takeGcLease(store, device, TTL, at(now))),
      );
      const winners = results.filter(isLease);
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} devices took the lease`);
      const [winner] = winners;
      const winnerName = devices[results.indexOf(winner)].name;
      for (const answer of results.filter((r): r is GcLeaseHeld => !isLease(r))) {
        assert.equal(answer.heldBy.name, winnerName);
        assert.equal(answer.expiresAt, now + TTL);
      }
      // Each round's winner deletes the lease objects before its own.
      assert.deepEqual(await leaseKeys(store), [gcLeaseKey(round)]);
      assert.equal(winner.n, round);
      now = takeableAfter(winner.expiresAt);
    }
  },
);

leaseTest("an expired lease is taken over only once the clock margin has passed", async (store) => {
  const a = await taken(takeGcLease(store, devA, TTL, at(T0)));
  assert.equal(a.expiresAt, T0 + TTL);

  const early = await refused(takeGcLease(store, devB, TTL, at(takeableAfter(T0 + TTL) - 1)));
  assert.deepEqual(early.heldBy, devA);
  assert.equal(early.message, "held by dev0 until 2026-12-03T08:01:00.000Z");

  const b = await taken(takeGcLease(store, devB, TTL, at(takeableAfter(T0 + TTL))));
  assert.equal(b.n, 2);
  assert.deepEqual(await leaseKeys(store), [gcLeaseKey(2)]);
});

leaseTest("the holder stops at its own expiry and cannot renew after it", async (store) => {
  let now = T0;
  const a = await taken(takeGcLease(store, devA, TTL, () => now));
  now = T0 + TTL - 1;
  assert.equal(a.stillHeld(), true);
  now = T0 + TTL;
  assert.equal(a.stillHeld(), false);
  assert.equal(await a.renew(), false);
  assert.equal((await leaseRecord(store, 1)).expires_at, new Date(T0 + TTL).toISOString());
});

leaseTest(
  "release lets another device take the lease at once; a late release changes nothing",
  async (store) => {
    const a = await taken(takeGcLease(store, devA, TTL, at(T0)));
    await refused(takeGcLease(store, devB, TTL, at(T0)));
    await a.release();
    assert.equal(a.stillHeld(), false);
    // Released, not deleted: the highest lease object stays, so numbers never start again below it.
    assert.deepEqual(await leaseKeys(store), [gcLeaseKey(1)]);
    assert.equal((await leaseRecord(store, 1)).released, true);

    const b = await taken(takeGcLease(store, devB, TTL, at(T0)));
    assert.equal(b.n, 2);
    const c = await taken(takeGcLease(store, devC, TTL, at(takeableAfter(b.expiresAt))));
    // B, whose lease C took over and deleted, must neither bring it back nor touch C's.
    await b.release();
    assert.deepEqual(await leaseKeys(store), [gcLeaseKey(3)]);
    assert.equal((await leaseRecord(store, 3)).released, undefined);
    assert.equal(c.stillHeld(), true);
  },
);

leaseTest("renewal extends the lease; a renewal after a takeover fails", async (store) => {
  let clockA = T0;
  const a = await taken(takeGcLease(store, devA, TTL, () => clockA));
  clockA = T0 + 50_000;
  assert.equal(await a.renew(), true);
  assert.equal(a.expiresAt, T0 + 50_000 + TTL);
  assert.equal(await a.renew(), true, "a second renewal rewrites the renewed object");
  assert.equal((await leaseRecord(store, 1)).expires_at, new Date(a.expiresAt).toISOString());
  await refused(takeGcLease(store, devB, TTL, at(takeableAfter(T0 + TTL))));

  // B's clock runs far ahead of A's: B takes over although A believes it still holds.
  await taken(takeGcLease(store, devB, TTL, at(takeableAfter(a.expiresAt))));
  assert.equal(a.stillHeld(), true);
  assert.equal(await a.renew(), false);
  assert.equal(a.stillHeld(), false);
  assert.deepEqual(await leaseKeys(store), [gcLeaseKey(2)], "the renewal brought lease 1 back");
});

leaseTest("a renewal that finds a higher lease gives the lease up", async (store) => {
  let clockA = T0;
  const a = await taken(takeGcLease(store, devA, TTL, () => clockA));
  // Another device wrote lease 2 and has not deleted lease 1 yet.
  await writeLease(store, 2, devB, T0 + 10 * TTL);
  clockA = T0 + 1_000;
  assert.equal(await a.renew(), false);
  assert.equal(a.stillHeld(), false);
});

leaseTest(
  "a taker stalled past a whole lease does not take a number used and cleaned meanwhile",
  async (store) => {
    // Lease 1 expired long ago; A sees that, then stalls before writing lease 2.
    await writeLease(store, 1, devC, T0);
    const late = takeableAfter(T0);
    const stalled = withFaults(store);
    let wake!: () => void;
    const fired = stalled.inject({
      op: "putConditional",
      action: "delay",
      until: new Promise<void>((resolve) => wake = resolve),
    });
    const aResult = takeGcLease(stalled, devA, TTL, at(late));
    for (let waited = 0; fired() === 0; waited += 5) {
      assert.ok(waited < 10_000, "A never came to write its lease");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    // Meanwhile B takes lease 2 (deleting lease 1) and releases it, and C takes lease 3
    // (deleting lease 2).
    const b = await taken(takeGcLease(store, devB, TTL, at(late)));
    assert.equal(b.n, 2);
    await b.release();
    const c = await taken(takeGcLease(store, devC, TTL, at(late)));
    assert.equal(c.n, 3);

    // A's write of lease 2 now succeeds, as nothing is there; A must still see C's lease above it.
    wake();
    const answer = await refused(aResult);
    assert.deepEqual(answer.heldBy, devC);
    assert.deepEqual(await leaseKeys(store), [gcLeaseKey(3)]);
    assert.equal(c.stillHeld(), true);
    assert.equal(await c.renew(), true);
  },
);

leaseTest(
  "the next holder deletes leftover lease objects and leaves other gc objects alone",
  async (store) => {
    for (const n of [1, 2, 3]) await writeLease(store, n, devC, T0);
    const condemned = "tcfs-meta/gc/condemned/0000000000000001.json";
    await store.put(condemned, new TextEncoder().encode("{}"));
    const a = await taken(takeGcLease(store, devA, TTL, at(takeableAfter(T0))));
    assert.equal(a.n, 4);
    assert.deepEqual(await leaseKeys(store), [gcLeaseKey(4)]);
    assert.equal(await store.has(condemned), true);
  },
);

leaseTest(
  "a damaged highest lease is refused, not taken over; a damaged lower one is cleaned",
  async (store) => {
    await writeLease(store, 1, devC, T0);
    await store.put(gcLeaseKey(2), new TextEncoder().encode("not a lease"));
    await assert.rejects(takeGcLease(store, devA, TTL, at(takeableAfter(T0))), {
      kind: "gc_lease_invalid",
      message: /lease-0000000000000002\.json is damaged/,
    });
    assert.deepEqual(await leaseKeys(store), [gcLeaseKey(1), gcLeaseKey(2)]);

    await writeLease(store, 3, devC, T0);
    const a = await taken(takeGcLease(store, devA, TTL, at(takeableAfter(T0))));
    assert.equal(a.n, 4);
    assert.deepEqual(await leaseKeys(store), [gcLeaseKey(4)]);
  },
);

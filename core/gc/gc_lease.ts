/**
 * The gc lease: at most one gc runs against a store at a time, whichever device or process
 * starts it. One lease per store, since packs are shared by every namespace.
 *
 * The lease is a numbered object, `tcfs-meta/gc/lease-<n>.json`; the one with the highest
 * number is the lease, the others are leftovers. To take it, a device lists the prefix and reads
 * the highest. While that one is neither released nor expired, the lease is held and the device
 * gets a {@linkcode GcLeaseHeld} answer. Otherwise it creates number n+1 with `If-None-Match: *`,
 * so of the devices that saw n only one gets n+1. The winner then lists again: it holds the
 * lease only if its number is still the highest, and only then deletes the lower ones. The
 * second listing matters because a taker may stall (a laptop sleeping) between its listing and
 * its write for longer than a lease lasts: by then others may have taken n+1 and n+2 and deleted
 * n+1, so its write of n+1 succeeds although n+2 holds.
 *
 * For the same reason, no one ever deletes the highest lease object: a release rewrites it as
 * released instead. Deleting it would let numbers start again below it, so that a stalled
 * taker's write of the old number could land above a newer holder's. Lower objects are deleted
 * only by a holder of a higher one, or by a taker that lost to one.
 *
 * Renewal rewrites the holder's own object with a later expiry, with `If-Match` on the etag of
 * the bytes it last wrote, rather than writing n+1: the number then only grows on a change of
 * holder, there is nothing to clean after each renewal, and the write fails if anyone touched the
 * object. It then lists again, as a take does, in case another device went past it.
 *
 * Clocks: a lease's expiry is written by its holder's clock and judged by the reader's. A reader
 * takes over only {@linkcode GC_LEASE_CLOCK_MARGIN_MS} after the expiry, so device clocks must
 * agree within that margin (NTP keeps them within a second). The holder deletes nothing once its
 * own clock passes the expiry ({@linkcode GcLease.stillHeld}); what is left of the margin covers
 * a batch of deletions already under way.
 *
 * Stores: the filesystem store makes conditional writes atomic with a per-key lock; S3 stores
 * must honour `If-None-Match` and `If-Match` atomically (AWS S3, SeaweedFS 4.18 and later). On
 * a store that ignores them, two devices taking the same number can both believe they hold it.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { isDeviceName } from "../device/device_name.ts";
import {
  DEVICE_ID_PATTERN,
  GC_LEASE_PREFIX,
  gcLeaseKey,
  parseGcLeaseKey,
} from "../remote/remote_keys.ts";
import type { ObjectStore } from "../store/object_store.ts";

/** How long after a lease's expiry others wait before taking it: the clock skew tolerated. */
export const GC_LEASE_CLOCK_MARGIN_MS = 2 * 60_000;

/** A lease object is a few hundred bytes; a bigger one is refused unread. */
const MAX_LEASE_BYTES = 4096;

/**
 * Rounds of list, read and write before giving up. A round is lost only to a device that
 * wrote a lease in the meantime, which the next round then finds held.
 */
const TAKE_ROUNDS = 8;

/** The device taking the lease, as its lease object and others' messages name it. */
export interface GcLeaseDevice {
  id: string;
  name: string;
}

/** The lease, held by this process. */
export interface GcLease {
  /** The lease object's key. */
  readonly key: string;
  /** Its number. */
  readonly n: number;
  /** When it was taken, in ms since the epoch by this device's clock. */
  readonly takenAt: number;
  /** When it ends unless renewed, in ms since the epoch by this device's clock. */
  readonly expiresAt: number;
  /**
   * Whether the lease is still this process's, by its own clock and what renewals found. A gc
   * asks before every batch of deletions, and keeps a batch well under a minute.
   */
  stillHeld(): boolean;
  /**
   * Extends the lease to `ttlMs` from now. False when it is no longer held: it expired, or
   * another device took it; the caller must stop deleting.
   */
  renew(): Promise<boolean>;
  /** Marks the lease released, if it is still this process's, so others may take it at once. */
  release(): Promise<void>;
}

/** The answer when another device or process holds the lease. */
export interface GcLeaseHeld {
  heldBy: GcLeaseDevice;
  /** When the holder's lease ends, in ms since the epoch by the holder's clock. */
  expiresAt: number;
  /** "held by <device name> until <time>", for messages. */
  message: string;
}

/** A lease object's content. */
interface LeaseRecord {
  device: string;
  device_name: string;
  taken_at: string;
  expires_at: string;
  n: number;
  released?: true;
}

/**
 * Takes the store's gc lease for `ttlMs`, or says who holds it. `clock` gives the time in ms
 * since the epoch (tests move it).
 *
 * @throws {TcfsError} `gc_lease_invalid` when the highest lease object is not a lease;
 * `store_busy` when other devices kept taking the lease in between.
 *
 * @example
 * ```ts
 * const lease = await takeGcLease(store, { id: identity.id, name: identity.name }, 600_000);
 * if ("heldBy" in lease) throw new Error(`gc is ${lease.message}`);
 * try {
 *   if (lease.stillHeld()) await deleteBatch();
 * } finally {
 *   await lease.release();
 * }
 * ```
 */
export async function takeGcLease(
  store: ObjectStore,
  device: GcLeaseDevice,
  ttlMs: number,
  clock: () => number = Date.now,
): Promise<GcLease | GcLeaseHeld> {
  for (let round = 0; round < TAKE_ROUNDS; round++) {
    const top = (await leaseNumbers(store)).at(-1) ?? 0;
    if (top > 0) {
      const current = await readLease(store, top);
      // Gone between the listing and the read: a newer holder cleaned it up.
      if (current === undefined) continue;
      if (!isFree(current, clock())) return heldAnswer(current);
    }
    const n = top + 1;
    const takenAt = clock();
    const record: LeaseRecord = {
      device: device.id,
      device_name: device.name,
      taken_at: new Date(takenAt).toISOString(),
      expires_at: new Date(takenAt + ttlMs).toISOString(),
      n,
    };
    const key = gcLeaseKey(n);
    const body = new TextEncoder().encode(encodeLease(record));
    if (!await store.putConditional(key, body, { ifNoneMatch: "*" })) continue;
    const numbers = await leaseNumbers(store);
    if (numbers.at(-1) !== n) {
      // A stale view: others went past n meanwhile, so this object is a leftover.
      await store.delete(key);
      continue;
    }
    for (const older of numbers.slice(0, -1)) await store.delete(gcLeaseKey(older));
    return heldLease(store, key, record, ttlMs, clock);
  }
  throw new TcfsError(`could not take the gc lease of ${store.location}: it kept changing hands`, {
    kind: "store_busy",
    hint: "other devices are taking it right now; retry in a minute",
  });
}

/**
 * Runs `work` holding the store's gc lease, and releases it after. `work` calls `stillOurs`
 * before each stage that writes or deletes: it renews the lease, or throws once it is lost.
 * `command` names what to run again in messages (`tcfs gc`, `tcfs store encrypt`).
 *
 * @throws {TcfsError} `gc_lease_held` when another device holds the lease, or lost it mid-run.
 *
 * @example
 * ```ts
 * await withGcLease(store, device, 30 * 60_000, "tcfs gc", async (stillOurs) => {
 *   await stillOurs();
 *   await deleteBatch();
 * });
 * ```
 */
export async function withGcLease<T>(
  store: ObjectStore,
  device: GcLeaseDevice,
  ttlMs: number,
  command: string,
  work: (stillOurs: () => Promise<void>) => Promise<T>,
): Promise<T> {
  const lease = await takeGcLease(store, device, ttlMs);
  if ("heldBy" in lease) {
    throw new TcfsError(`another gc is running: the lease is ${lease.message}`, {
      kind: "gc_lease_held",
      hint: `wait for it to finish (or for its lease to expire), then run ${command} again`,
    });
  }
  const stillOurs = async () => {
    if (!lease.stillHeld() || !await lease.renew()) {
      throw new TcfsError(`${command} lost the gc lease mid-run and stopped before deleting more`, {
        kind: "gc_lease_held",
        hint: `another device took the lease (this run was too slow?); run ${command} again`,
      });
    }
  };
  try {
    return await work(stillOurs);
  } finally {
    await lease.release();
  }
}

/** The lease this process took, as {@linkcode takeGcLease} hands it out. */
function heldLease(
  store: ObjectStore,
  key: string,
  taken: LeaseRecord,
  ttlMs: number,
  clock: () => number,
): GcLease {
  /** What this process last wrote; the object is still ours while it holds exactly this. */
  let written = taken;
  let lost = false;
  const expiresAt = () => Date.parse(written.expires_at);
  const stillHeld = () => !lost && clock() < expiresAt();

  /** Rewrites our object, if it is still ours; false when it is not. */
  async function rewrite(record: LeaseRecord): Promise<boolean> {
    const current = await store.getWithEtag(key, { maxBytes: MAX_LEASE_BYTES });
    if (current === undefined || new TextDecoder().decode(current.body) !== encodeLease(written)) {
      return false;
    }
    const body = new TextEncoder().encode(encodeLease(record));
    if (!await store.putConditional(key, body, { ifMatch: current.etag })) return false;
    written = record;
    return true;
  }

  return {
    key,
    n: taken.n,
    takenAt: Date.parse(taken.taken_at),
    get expiresAt() {
      return expiresAt();
    },
    stillHeld,
    async renew() {
      if (!stillHeld()) return false;
      const expires = new Date(clock() + ttlMs).toISOString();
      const renewed = await rewrite({ ...written, expires_at: expires }) &&
        (await leaseNumbers(store)).at(-1) === taken.n;
      lost = !renewed;
      return renewed;
    },
    async release() {
      if (lost) return;
      lost = true;
      await rewrite({ ...written, released: true });
    },
  };
}

/** The numbers of the lease objects in the store, lowest first. */
async function leaseNumbers(store: ObjectStore): Promise<number[]> {
  const numbers: number[] = [];
  for await (const { key } of store.list(GC_LEASE_PREFIX)) {
    const n = parseGcLeaseKey(key);
    if (n !== undefined) numbers.push(n);
  }
  return numbers.sort((a, b) => a - b);
}

/** Lease object `n`, or undefined when it is gone. */
async function readLease(store: ObjectStore, n: number): Promise<LeaseRecord | undefined> {
  const key = gcLeaseKey(n);
  let body: Uint8Array | undefined;
  try {
    body = await store.get(key, { maxBytes: MAX_LEASE_BYTES });
  } catch (err) {
    if (err instanceof TcfsError && err.kind === "oversized_object") throw invalidLease(key);
    throw err;
  }
  if (body === undefined) return undefined;
  const record = parseLease(body, n);
  if (record === undefined) throw invalidLease(key);
  return record;
}

/**
 * A lease record, checked; undefined when the bytes are not one. An unreadable lease is never
 * taken as expired: it may be a newer tcfs's, whose holder is at work.
 */
function parseLease(body: Uint8Array, n: number): LeaseRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const time = (value: unknown) => typeof value === "string" && !Number.isNaN(Date.parse(value));
  const valid = typeof r.device === "string" && DEVICE_ID_PATTERN.test(r.device) &&
    typeof r.device_name === "string" && isDeviceName(r.device_name) && time(r.taken_at) &&
    time(r.expires_at) && r.n === n && (r.released === undefined || r.released === true);
  return valid ? r as unknown as LeaseRecord : undefined;
}

function invalidLease(key: string): TcfsError {
  return new TcfsError(`the gc lease ${key} is damaged: it is not a lease object`, {
    kind: "gc_lease_invalid",
    hint: `make sure no tcfs gc is running on any device, delete ${key}, then retry`,
  });
}

/** Whether a lease may be taken over at `now` (this device's clock). */
function isFree(record: LeaseRecord, now: number): boolean {
  return record.released === true ||
    now > Date.parse(record.expires_at) + GC_LEASE_CLOCK_MARGIN_MS;
}

function heldAnswer(record: LeaseRecord): GcLeaseHeld {
  return {
    heldBy: { id: record.device, name: record.device_name },
    expiresAt: Date.parse(record.expires_at),
    message: `held by ${record.device_name} until ${record.expires_at}`,
  };
}

function encodeLease(record: LeaseRecord): string {
  return `${JSON.stringify(record)}\n`;
}

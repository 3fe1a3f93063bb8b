/**
 * One-time invitations: `tcfs device invite` on an approved device makes a token; a new device
 * that enrolls with it files a claim; an approved daemon that finds the claim checks it and
 * approves the device, with no one at the first device's keyboard.
 *
 * ```
 * tcfs-meta/invites/<id>.json               the invitation: {format, created_by, created_at, expires_at, token_box}
 * tcfs-meta/invites/<id>.claim-<device>.json a claim: {format, device, recipient, proof}
 * ```
 *
 * `<id>` is the first 32 hex digits of BLAKE3(token); `token_box` is the token sealed with the
 * fleet keys (place: the invitation's key), so only approved devices can read it; `proof` is
 * BLAKE3 keyed with BLAKE3(token) over the claimant's device id and age recipient. Whoever holds
 * only the bucket keys sees the id, not the token, so they cannot file a claim that checks out;
 * a claim that does not check out is never approved.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import type { FleetKeys } from "./fleet_keys.ts";
import { openBytes, sealBytes } from "./sealed_box.ts";
import { decodeBase64, encodeBase64 } from "../encoding/base64.ts";
import { blake3Hex } from "../hashing/blake3.ts";
import { keyedBlake3 } from "../hashing/keyed_blake3.ts";
import { TcfsError } from "../errors.ts";

/** Prefix of invitations and their claims. */
export const INVITES_PREFIX = "tcfs-meta/invites/";

/** How long an invitation stays good unless told. */
export const DEFAULT_INVITE_TTL_MS = 24 * 3600_000;

const TOKEN_PREFIX = "tcfs-invite-";
const TOKEN_PATTERN = /^tcfs-invite-[0-9a-f]{40}$/;
const CLAIM_PATTERN = /^tcfs-meta\/invites\/([0-9a-f]{32})\.claim-([0-9a-f-]{36})\.json$/;
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{20,2000}$/;
const MAX_OBJECT_BYTES = 64 * 1024;

/** What `tcfs device invite` hands the user. */
export interface Invitation {
  /** The one-time token to pass to `tcfs device enroll --invite`. A secret until used. */
  token: string;
  expiresAt: string;
}

/** A device a daemon may approve: it claimed a live invitation and proved it knew the token. */
export interface CheckedClaim {
  device: string;
  recipient: string;
  /** Who made the invitation. */
  invitedBy: string;
}

/**
 * Makes an invitation that expires after `ttlMs`.
 *
 * @example
 * ```ts
 * const { token } = await createInvitation(store, keys, me.id);
 * ```
 */
export async function createInvitation(
  store: ObjectStore,
  keys: FleetKeys,
  by: string,
  ttlMs = DEFAULT_INVITE_TTL_MS,
  now = new Date(),
): Promise<Invitation> {
  const random = crypto.getRandomValues(new Uint8Array(20));
  const token = TOKEN_PREFIX + Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
  const key = await invitationKey(token);
  const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
  const body = {
    format: 1,
    created_by: by,
    created_at: now.toISOString(),
    expires_at: expiresAt,
    token_box: encodeBase64(await sealBytes(keys, new TextEncoder().encode(token), key)),
  };
  await store.put(key, new TextEncoder().encode(JSON.stringify(body)));
  return { token, expiresAt };
}

/**
 * The key of the invitation `token` names, once it is known to be there: what an enrollment
 * checks before it registers anything.
 *
 * @throws {TcfsError} `invalid_argument` for a token that is not one, or names no invitation.
 *
 * @example
 * ```ts
 * await openInvitation(store, options.invite);
 * ```
 */
export async function openInvitation(store: ObjectStore, token: string): Promise<string> {
  if (!TOKEN_PATTERN.test(token)) {
    throw new TcfsError("that is not a tcfs invitation token", {
      kind: "invalid_argument",
      exitCode: 2,
      hint: "copy the whole token `tcfs device invite` printed (tcfs-invite-…)",
    });
  }
  const key = await invitationKey(token);
  if (!await store.has(key)) {
    throw new TcfsError("the invitation was used already, expired, or never existed", {
      kind: "invalid_argument",
      exitCode: 2,
      hint: "run `tcfs device invite` on an approved device for a new token",
    });
  }
  return key;
}

/**
 * Files this device's claim on the invitation `token` names.
 *
 * @throws {TcfsError} as {@linkcode openInvitation}.
 *
 * @example
 * ```ts
 * await claimInvitation(store, token, me.id, myRecipient);
 * ```
 */
export async function claimInvitation(
  store: ObjectStore,
  token: string,
  device: string,
  recipient: string,
): Promise<void> {
  const key = await openInvitation(store, token);
  const claim = { format: 1, device, recipient, proof: await claimProof(token, device, recipient) };
  await store.put(
    key.replace(/\.json$/, `.claim-${device}.json`),
    new TextEncoder().encode(JSON.stringify(claim)),
  );
}

/**
 * Reads every claim and hands `approve` those that prove their token for a live invitation; an
 * invitation is used up (deleted, with its claims) once `approve` says true. Expired and
 * damaged invitations go too. Returns the claims approved.
 *
 * @example
 * ```ts
 * await settleClaims(store, keys, async (claim) => (await approve(claim.device), true));
 * ```
 */
export async function settleClaims(
  store: ObjectStore,
  keys: FleetKeys,
  approve: (claim: CheckedClaim) => Promise<boolean>,
  now = new Date(),
): Promise<CheckedClaim[]> {
  const invitations = new Set<string>();
  const claims: { key: string; id: string; device: string }[] = [];
  for await (const { key } of store.list(INVITES_PREFIX)) {
    const claim = CLAIM_PATTERN.exec(key);
    if (claim) claims.push({ key, id: claim[1], device: claim[2] });
    else if (/^tcfs-meta\/invites\/[0-9a-f]{32}\.json$/.test(key)) invitations.add(key);
  }
  const approved: CheckedClaim[] = [];
  const remaining = new Set(invitations);
  for (const key of invitations) {
    const invitation = await readInvitation(store, keys, key);
    if (invitation === "not_yet") continue;
    if (!invitation || invitation.expiresAt < now.toISOString()) {
      await store.delete(key);
      remaining.delete(key);
      continue;
    }
    for (const claim of claims.filter((c) => key === `${INVITES_PREFIX}${c.id}.json`)) {
      const checked = await checkClaim(store, claim.key, claim.device, invitation.token);
      if (!checked) continue;
      const done = { ...checked, invitedBy: invitation.createdBy };
      if (!await approve(done)) continue;
      approved.push(done);
      // One device per invitation.
      await store.delete(key);
      remaining.delete(key);
      break;
    }
  }
  // Claims go once their invitation is gone; a failing claim on a live one stays, harmless,
  // until the invitation is used or expires.
  for (const claim of claims) {
    if (!remaining.has(`${INVITES_PREFIX}${claim.id}.json`)) await store.delete(claim.key);
  }
  return approved;
}

async function readInvitation(
  store: ObjectStore,
  keys: FleetKeys,
  key: string,
): Promise<{ token: string; expiresAt: string; createdBy: string } | "not_yet" | undefined> {
  try {
    const body = await store.get(key, { maxBytes: MAX_OBJECT_BYTES });
    if (!body) return undefined;
    const value = JSON.parse(new TextDecoder().decode(body));
    const token = new TextDecoder().decode(
      await openBytes(keys, decodeBase64(String(value.token_box)), key),
    );
    // An invitation copied under another id would name a token that hashes elsewhere.
    if (!TOKEN_PATTERN.test(token) || await invitationKey(token) !== key) return undefined;
    if (typeof value.expires_at !== "string" || typeof value.created_by !== "string") {
      return undefined;
    }
    return { token, expiresAt: value.expires_at, createdBy: value.created_by };
  } catch (err) {
    // Sealed with an epoch newer than this device's keys: another device (or a later look) can.
    if (err instanceof TcfsError && err.kind === "not_approved") return "not_yet";
    // Damaged or forged: never approves anyone.
    return undefined;
  }
}

async function checkClaim(
  store: ObjectStore,
  key: string,
  device: string,
  token: string,
): Promise<Omit<CheckedClaim, "invitedBy"> | undefined> {
  try {
    const body = await store.get(key, { maxBytes: MAX_OBJECT_BYTES });
    if (!body) return undefined;
    const value = JSON.parse(new TextDecoder().decode(body));
    const recipient = String(value.recipient);
    if (value.device !== device || !AGE_RECIPIENT.test(recipient)) return undefined;
    if (value.proof !== await claimProof(token, device, recipient)) return undefined;
    return { device, recipient };
  } catch {
    return undefined;
  }
}

async function invitationKey(token: string): Promise<string> {
  return `${INVITES_PREFIX}${(await blake3Hex(new TextEncoder().encode(token))).slice(0, 32)}.json`;
}

async function claimProof(token: string, device: string, recipient: string): Promise<string> {
  const key = await keyedBlake3(
    new Uint8Array(32),
    new TextEncoder().encode(`tcfs invite key ${token}`),
  );
  const proof = await keyedBlake3(key, new TextEncoder().encode(`${device}\n${recipient}`));
  return Array.from(proof, (b) => b.toString(16).padStart(2, "0")).join("");
}

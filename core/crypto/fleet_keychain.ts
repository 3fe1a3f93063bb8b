/**
 * A fleet keychain: every epoch's data key up to one epoch, and who may read them. The newest
 * keychain is all a device needs; it is stored age-encrypted to each approved device's
 * recipient (and the recovery recipient) by `keychain_store.ts`. This module is the format and
 * the pure changes to it.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "../encoding/base64.ts";
import { MAX_KEY_EPOCH } from "../remote/remote_keys.ts";
import { TcfsError } from "../errors.ts";

/** The plaintext inside `tcfs-meta/keys/<epoch>`. */
export interface FleetKeychain {
  format: 1;
  /** The newest epoch: every new box is sealed with its key. */
  epoch: number;
  /** The epoch whose key the chunk-id key derives from (1, until a rekey). */
  id_root: number;
  /** Base64 of each epoch's 32-byte key, from `id_root` up to `epoch`. */
  keys: Record<string, string>;
  /** Approved devices: id → age recipient. */
  recipients: Record<string, string>;
  /** The recovery identity's recipient, when the fleet has one. */
  recovery_recipient?: string;
  written_by: string;
  written_at: string;
}

const KEY_BYTES = 32;
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{20,2000}$/;
const DEVICE_ID = /^[0-9a-f-]{36}$/;

/**
 * The first keychain of a fleet: epoch 1, one approved device.
 *
 * @example
 * ```ts
 * const keychain = firstKeychain(me.id, myRecipient, recoveryRecipient);
 * ```
 */
export function firstKeychain(
  deviceId: string,
  recipient: string,
  recoveryRecipient: string | undefined,
): FleetKeychain {
  return {
    format: 1,
    epoch: 1,
    id_root: 1,
    keys: { "1": freshKey() },
    recipients: { [deviceId]: recipient },
    ...(recoveryRecipient ? { recovery_recipient: recoveryRecipient } : {}),
    written_by: deviceId,
    written_at: new Date().toISOString(),
  };
}

/**
 * The keychain with one more approved device (same epoch, same keys).
 *
 * @example
 * ```ts
 * const next = withRecipient(keychain, me.id, laptop.id, laptop.age_public_key);
 * ```
 */
export function withRecipient(
  keychain: FleetKeychain,
  by: string,
  deviceId: string,
  recipient: string,
): FleetKeychain {
  return {
    ...keychain,
    recipients: { ...keychain.recipients, [deviceId]: recipient },
    written_by: by,
    written_at: new Date().toISOString(),
  };
}

/**
 * The next epoch's keychain: a fresh key, every older key kept (so history stays readable to
 * those who remain), and only `remaining` devices approved.
 *
 * @example
 * ```ts
 * const next = nextEpoch(keychain, me.id, (id) => id !== revoked.id);
 * ```
 */
export function nextEpoch(
  keychain: FleetKeychain,
  by: string,
  remaining: (deviceId: string) => boolean,
): FleetKeychain {
  const epoch = keychain.epoch + 1;
  return {
    ...keychain,
    epoch,
    keys: { ...keychain.keys, [String(epoch)]: freshKey() },
    recipients: Object.fromEntries(
      Object.entries(keychain.recipients).filter(([id]) => remaining(id)),
    ),
    written_by: by,
    written_at: new Date().toISOString(),
  };
}

/**
 * Parses and checks untrusted keychain JSON (it passed age's authentication, but a device that
 * was approved once could have written anything).
 *
 * @example
 * ```ts
 * const keychain = parseKeychain(plaintext, "tcfs-meta/keys/0000000001");
 * ```
 */
export function parseKeychain(bytes: Uint8Array, origin: string): FleetKeychain {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw invalid(origin, "it is not JSON");
  }
  const epoch = value?.epoch;
  const idRoot = value?.id_root;
  if (value?.format !== 1) throw invalid(origin, "its format is not 1");
  if (!Number.isInteger(epoch) || (epoch as number) < 1 || (epoch as number) > MAX_KEY_EPOCH) {
    throw invalid(origin, "epoch is not a whole number from 1");
  }
  if (
    !Number.isInteger(idRoot) || (idRoot as number) < 1 || (idRoot as number) > (epoch as number)
  ) {
    throw invalid(origin, "id_root is not an epoch up to epoch");
  }
  const keys = value.keys as Record<string, unknown>;
  if (typeof keys !== "object" || keys === null) throw invalid(origin, "keys is missing");
  for (let e = idRoot as number; e <= (epoch as number); e++) {
    const text = keys[String(e)];
    if (typeof text !== "string" || decodedLength(text) !== KEY_BYTES) {
      throw invalid(origin, `the key of epoch ${e} is missing or not ${KEY_BYTES} bytes`);
    }
  }
  const recipients = value.recipients as Record<string, unknown>;
  if (
    typeof recipients !== "object" || recipients === null ||
    !Object.entries(recipients).every(([id, r]) =>
      DEVICE_ID.test(id) && typeof r === "string" && AGE_RECIPIENT.test(r)
    )
  ) {
    throw invalid(origin, "recipients is not a map of device ids to age recipients");
  }
  const recovery = value.recovery_recipient;
  if (recovery !== undefined && (typeof recovery !== "string" || !AGE_RECIPIENT.test(recovery))) {
    throw invalid(origin, "recovery_recipient is not an age recipient");
  }
  if (typeof value.written_by !== "string" || typeof value.written_at !== "string") {
    throw invalid(origin, "written_by or written_at is missing");
  }
  return value as unknown as FleetKeychain;
}

/** True when `newer` holds the same key as `older` for every epoch `older` holds. */
export function extendsKeychain(newer: FleetKeychain, older: FleetKeychain): boolean {
  return Object.entries(older.keys).every(([epoch, key]) => newer.keys[epoch] === key);
}

function freshKey(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(KEY_BYTES)));
}

function decodedLength(text: string): number {
  try {
    return decodeBase64(text).length;
  } catch {
    return -1;
  }
}

function invalid(origin: string, why: string): TcfsError {
  return new TcfsError(`the fleet keychain ${origin} is invalid: ${why}`, {
    kind: "keychain_invalid",
    hint: "it was damaged or written by something other than tcfs; an approved device can " +
      "write a good one with `tcfs device revoke` of a lost device, or restore it from a backup",
  });
}

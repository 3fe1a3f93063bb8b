/**
 * The fleet's recovery identity R: an age X25519 identity whose recipient every keychain is
 * also encrypted to, so that a machine holding R can open the newest keychain after every
 * device is gone. R is kept either in the store at `tcfs-meta/keys/recovery`, age-encrypted
 * with a passphrase (age's scrypt recipient, at age's default work factor), or only on paper
 * (a key file the user stores offline).
 *
 * @module
 */

import { Decrypter, Encrypter, generateIdentity, identityToRecipient } from "age-encryption";
import { createPrivateFile } from "../credentials/private_file.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { DeviceAgeIdentity } from "../device/device_age_key.ts";
import { RECOVERY_IDENTITY_KEY } from "../remote/remote_keys.ts";
import { TcfsError } from "../errors.ts";

/**
 * A new recovery identity.
 *
 * @example
 * ```ts
 * const recovery = await createRecoveryIdentity();
 * firstKeychain(me.id, myRecipient, recovery.recipient);
 * ```
 */
export async function createRecoveryIdentity(): Promise<DeviceAgeIdentity> {
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/**
 * Stores `recovery` in the store, encrypted with `passphrase`; false when a recovery identity
 * is there already (it is never replaced).
 *
 * @example
 * ```ts
 * await storeRecoveryIdentity(store, recovery, passphrase);
 * ```
 */
export async function storeRecoveryIdentity(
  store: ObjectStore,
  recovery: DeviceAgeIdentity,
  passphrase: string,
): Promise<boolean> {
  const encrypter = new Encrypter();
  encrypter.setPassphrase(passphrase);
  const body = await encrypter.encrypt(new TextEncoder().encode(recovery.identity));
  return await store.putConditional(RECOVERY_IDENTITY_KEY, body, { ifNoneMatch: "*" });
}

/**
 * True when the store holds a passphrase-sealed recovery identity.
 *
 * @example
 * ```ts
 * if (!await hasStoredRecoveryIdentity(store)) console.log("use --recovery-key-file");
 * ```
 */
export function hasStoredRecoveryIdentity(store: ObjectStore): Promise<boolean> {
  return store.has(RECOVERY_IDENTITY_KEY);
}

/**
 * Opens the stored recovery identity with `passphrase`.
 *
 * @throws {TcfsError} `recovery_failed` when none is stored or the passphrase is wrong;
 *   `sealed_damaged` when the object fails authentication.
 *
 * @example
 * ```ts
 * const recovery = await openRecoveryIdentity(store, passphrase);
 * await readKeychain(store, recovery.identity);
 * ```
 */
export async function openRecoveryIdentity(
  store: ObjectStore,
  passphrase: string,
): Promise<DeviceAgeIdentity> {
  const body = await store.get(RECOVERY_IDENTITY_KEY, { maxBytes: 64 * 1024 });
  if (!body) {
    throw new TcfsError(
      `the store holds no recovery identity (${RECOVERY_IDENTITY_KEY} is missing)`,
      {
        kind: "recovery_failed",
        hint: "this fleet's recovery key was printed at its first enrollment instead: pass " +
          "it with --recovery-key-file, or let an approved device run `tcfs device approve`",
      },
    );
  }
  const decrypter = new Decrypter();
  decrypter.addPassphrase(passphrase);
  let identity: string;
  try {
    identity = (await decrypter.decrypt(body, "text")).trim();
  } catch (err) {
    if ((err as Error).message.includes("no identity matched")) {
      throw new TcfsError(
        "the recovery passphrase is wrong: it does not open the recovery identity",
        {
          kind: "recovery_failed",
          hint: "check the passphrase (TCFS_RECOVERY_PASSPHRASE, --recovery-passphrase-file or " +
            "the prompt) and try again; nothing was written",
        },
      );
    }
    throw new TcfsError(
      `the recovery identity ${RECOVERY_IDENTITY_KEY} cannot be opened: ${(err as Error).message}`,
      {
        kind: "sealed_damaged",
        hint: "it was damaged or altered in the store; nothing was written. Use the printed " +
          "recovery key if you have one, or `tcfs device approve` from an approved device",
        cause: err,
      },
    );
  }
  return { identity, recipient: await recipientOf(identity) };
}

/**
 * Writes `recovery` to a new file at `path` (mode 0600, in `age-keygen`'s format), for the
 * user to store offline.
 *
 * @throws {TcfsError} `recovery_failed` when the file exists (an older key is never overwritten).
 *
 * @example
 * ```ts
 * await writeRecoveryKeyFile(join(configDir, "recovery-key.txt"), recovery);
 * ```
 */
export async function writeRecoveryKeyFile(
  path: string,
  recovery: DeviceAgeIdentity,
): Promise<void> {
  const text = "# tcfs fleet recovery key: store it offline, then delete this file\n" +
    `# public key: ${recovery.recipient}\n${recovery.identity}\n`;
  if (!await createPrivateFile(path, text)) {
    throw new TcfsError(`${path} already exists: it may hold another fleet's recovery key`, {
      kind: "recovery_failed",
      hint: "store that key offline and delete the file, then enroll again (nothing was written)",
    });
  }
}

async function recipientOf(identity: string): Promise<string> {
  try {
    return await identityToRecipient(identity);
  } catch (err) {
    throw new TcfsError(`the recovery identity ${RECOVERY_IDENTITY_KEY} is not an age identity`, {
      kind: "sealed_damaged",
      hint: "it was written by something other than tcfs; use the printed recovery key if " +
        "you have one, or `tcfs device approve` from an approved device",
      cause: err,
    });
  }
}

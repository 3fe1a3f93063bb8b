/**
 * Files that hold secrets (S3 keys, age identities, KDBX key files, NATS credentials)
 * are used only when no other user can access them, as ssh does with private keys:
 * a secret readable by the whole host is already leaked, and using it hides that.
 *
 * @module
 */

import { dirname } from "node:path";
import { TcfsError } from "../errors.ts";
import { readUpTo } from "../io/byte_reader.ts";

/** A file that holds secrets, as messages name it. */
export interface SecretFile {
  /** What the file is: `config file`, `age key file`, … */
  what: string;
  path: string;
  /** What secrets it holds: `S3 secrets`, `age identities`, … */
  holds: string;
}

/**
 * Throws when `mode` lets group or others access `file` (any bit in `0o077`).
 * `mode` is `undefined` or `null` where the OS has no Unix modes, and then passes.
 *
 * @example
 * ```ts
 * const file = { what: "config file", path, holds: "S3 secrets" };
 * refuseSharedSecrets(file, (await Deno.stat(path)).mode);
 * ```
 */
export function refuseSharedSecrets(file: SecretFile, mode: number | null | undefined): void {
  if (mode === undefined || mode === null || (mode & 0o077) === 0) return;
  const shown = (mode & 0o777).toString(8).padStart(4, "0");
  throw new TcfsError(
    `${file.what} ${file.path} holds ${file.holds} but other users can access it ` +
      `(mode ${shown}); refusing to use them`,
    { kind: "config-secrets-exposed", hint: `run \`chmod 600 ${file.path}\`` },
  );
}

/**
 * Reads a file that holds secrets, refusing it (see {@linkcode refuseSharedSecrets})
 * when other users can access it. The mode checked is that of the file read, not of
 * a path that may have been replaced in between.
 *
 * @example
 * ```ts
 * const creds = await readPrivateFile({ what: "NATS credentials file", path, holds: "NATS credentials" });
 * ```
 */
export async function readPrivateFile(file: SecretFile): Promise<Uint8Array<ArrayBuffer>> {
  using handle = await Deno.open(file.path, { read: true });
  const { mode, size } = await handle.stat();
  refuseSharedSecrets(file, mode);
  const bytes = new Uint8Array(size);
  return bytes.subarray(0, (await readUpTo(handle, bytes)).length);
}

/**
 * Writes `text` to a new file at `path`, mode 0600 (its folder 0700 when made here), and
 * syncs it; false, writing nothing, when the file exists already (another process won).
 *
 * @example
 * ```ts
 * if (!await createPrivateFile(path, `${identity}\n`)) console.log("kept the existing key");
 * ```
 */
export async function createPrivateFile(path: string, text: string): Promise<boolean> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    using file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    // The umask may have taken bits off the mode; a secret's file is 0600 whatever it says.
    await Deno.chmod(path, 0o600);
    await file.write(new TextEncoder().encode(text));
    await file.sync();
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    throw err;
  }
}

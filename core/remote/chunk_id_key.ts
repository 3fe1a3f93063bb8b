/**
 * Which BLAKE3 a version's chunk ids are: keyed with the fleet's id key in format 3 (what a
 * sealed namespace writes), plain in formats 1 and 2. Everything that computes or checks a
 * chunk id or a file digest asks here, with the format of the version at hand: a sealed
 * namespace still holds the plaintext versions written before `tcfs store encrypt`.
 *
 * @module
 */

import type { FleetKeys } from "../crypto/fleet_keys.ts";
import { TcfsError } from "../errors.ts";
import { KEYED_VERSION_FORMAT, VERSION_FORMAT, type VersionFormat } from "./file_version.ts";

/**
 * The format of the versions a context writes: keyed ids when it holds the fleet's keys (the
 * namespace is sealed), plain ones otherwise.
 *
 * @example
 * ```ts
 * const format = writtenFormat(ctx.keys); // 3 in a sealed namespace, 2 in a plaintext one
 * ```
 */
export function writtenFormat(keys: FleetKeys | undefined): VersionFormat {
  return keys ? KEYED_VERSION_FORMAT : VERSION_FORMAT;
}

/**
 * The BLAKE3 key of the chunk ids of a version in `format`: `keys.idKey` for format 3,
 * `undefined` (plain BLAKE3) for the others.
 *
 * @throws {TcfsError} `not_approved` for format 3 without the fleet's keys.
 *
 * @example
 * ```ts
 * const { id } = await hashChunk(raw, hasher, { idKey: chunkIdKey(version.format, ctx.keys) });
 * ```
 */
export function chunkIdKey(
  format: VersionFormat,
  keys: FleetKeys | undefined,
): Uint8Array | undefined {
  if (format !== KEYED_VERSION_FORMAT) return undefined;
  if (!keys) {
    throw new TcfsError(
      "this version's chunk ids are keyed with the fleet's key, which this device does not hold",
      {
        kind: "not_approved",
        hint: "run `tcfs device approve <this device>` on an approved device (see `tcfs creds " +
          "status`), or `tcfs device enroll --recovery` with the fleet's recovery passphrase",
      },
    );
  }
  return keys.idKey;
}

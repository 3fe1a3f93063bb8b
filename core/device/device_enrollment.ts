/**
 * Deciding who an enrolling device is: which id it keeps, and whether its name is free.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { type DeviceRecord, isLiveDevice } from "./device_record.ts";
import { deviceRevokedError } from "./device_registry.ts";

/** What the enrolling device knows about itself. */
export interface EnrollmentRequest {
  /** The name it asks for. */
  name: string;
  /** Its age public key. */
  agePublicKey: string;
  /** The id in its `device.json`, when that file exists. */
  knownId?: string;
  /** Take the name over from another live device. */
  replace: boolean;
}

/** Where the enrolling device's id came from. */
export type IdOrigin = "device_file" | "age_key" | "new";

/** The outcome of {@linkcode planEnrollment}. */
export interface EnrollmentPlan {
  /** The id the device enrolls with. */
  id: string;
  /** Where that id came from. */
  origin: IdOrigin;
  /** The live device that holds the name now and is replaced (only with `replace`). */
  displaced?: DeviceRecord;
}

/**
 * Picks the id and checks the name against the fleet:
 * - the id in `device.json` is kept;
 * - without one, a registration with the same name and the same age public key is this device
 *   coming back (its tcfs config was deleted but its age key kept), so its id is recovered;
 *   both must match, because hosts that share one age key are still different devices;
 * - otherwise the device is new.
 *
 * A name held by a different live device is refused unless `replace`.
 *
 * @throws {TcfsError} kind `device_name_taken` or `device_revoked`.
 *
 * @example
 * ```ts
 * const plan = planEnrollment(fleet.devices, { name: "yoga", agePublicKey, knownId, replace: false });
 * ```
 */
export function planEnrollment(
  devices: readonly DeviceRecord[],
  request: EnrollmentRequest,
): EnrollmentPlan {
  const recovered = request.knownId === undefined
    ? devices.find((d) =>
      d.name === request.name && d.age_public_key === request.agePublicKey && !d.revoked
    )
    : undefined;
  const [id, origin]: [string, IdOrigin] = request.knownId !== undefined
    ? [request.knownId, "device_file"]
    : recovered
    ? [recovered.id, "age_key"]
    : [crypto.randomUUID(), "new"];
  if (devices.some((d) => d.id === id && d.revoked)) throw deviceRevokedError(id);
  const holder = devices.find((d) => d.name === request.name && d.id !== id && isLiveDevice(d));
  if (holder && !request.replace) {
    throw new TcfsError(
      `the name ${JSON.stringify(request.name)} belongs to another device ` +
        `(id ${holder.id}, last seen ${holder.last_seen})`,
      {
        kind: "device_name_taken",
        hint: "choose another name with --name, or add --replace if this machine takes that " +
          "device's place (e.g. it was reinstalled)",
      },
    );
  }
  return holder ? { id, origin, displaced: holder } : { id, origin };
}

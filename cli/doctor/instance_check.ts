/**
 * `tcfs doctor`: is this device id in use by one installation only? A cloned VM image or a
 * copied home carries the device id along; both copies then write as one device, and every
 * edit of theirs turns into a conflict. See core/device/device_instances.ts.
 *
 * @module
 */

import type { TcfsConfig } from "../../core/config/config_schema.ts";
import { readDeviceIdentity } from "../../core/device/device_identity.ts";
import {
  type DeviceInstance,
  INSTANCE_LIVE_DAYS,
  liveInstances,
  thisInstance,
} from "../../core/device/device_instances.ts";
import { describeError } from "../../core/errors.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { hostFacts } from "../../platform/host_facts.ts";
import { type CheckResult, checkResult } from "./doctor_check.ts";

const NAME = "one installation";

/**
 * `ok` when the device id was seen from this installation only in the last 30 days, `fail`
 * (with the fix: give the clone its own identity) when from more than one.
 *
 * @example
 * ```ts
 * const check = await instanceCheck(config, () => runtime.store());
 * ```
 */
export async function instanceCheck(
  config: TcfsConfig,
  store: () => Promise<ObjectStore>,
): Promise<CheckResult> {
  const device = await readDeviceIdentity(config.paths.deviceFile).catch(() => undefined);
  if (!device) return checkResult(NAME, "ok", "no device identity yet: nothing to compare");
  let instances: DeviceInstance[];
  try {
    instances = await liveInstances(await store(), device.id);
  } catch (err) {
    return checkResult(
      NAME,
      "warn",
      `not checked: ${describeError(err)}`,
      "fix the store failures above first",
    );
  }
  const me = await thisInstance(await hostFacts(), config.paths.stateDb);
  const others = instances.filter((i) => i.instance !== me.instance);
  if (others.length === 0) {
    return checkResult(NAME, "ok", `device ${device.name} writes from this installation only`);
  }
  const seen = others.map((i) => `${i.host} (${i.state_db}, last ${i.seen_at.slice(0, 16)})`);
  return checkResult(
    NAME,
    "fail",
    `device ${device.name} (${device.id}) also writes from ${seen.join(", ")}: a cloned ` +
      `machine or a copied home`,
    `on the copy, take a new identity: remove ${config.paths.deviceFile}, then run ` +
      `tcfs device enroll --name <new name> (a record ages out ${INSTANCE_LIVE_DAYS} days ` +
      `after its installation last wrote, e.g. after a host was renamed)`,
  );
}

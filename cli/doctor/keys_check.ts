/**
 * `tcfs doctor`: which key epoch of the fleet's end-to-end encryption this device holds.
 *
 * @module
 */

import type { CliRuntime } from "../cli_runtime.ts";
import { describeKeyStatus } from "../../core/crypto/device_key_status.ts";
import { TcfsError } from "../../core/errors.ts";
import { thisDeviceKeys } from "../this_device_keys.ts";
import { type CheckResult, checkResult } from "./doctor_check.ts";

const NAME = "keys";

/**
 * `ok` when this device holds the newest key epoch, or the fleet has no keychain; `warn` when
 * it is pending and the namespace is plaintext; `fail` when it is pending for an encrypted
 * namespace, or a keychain is damaged.
 *
 * @example
 * ```ts
 * await keysCheck(runtime); // { name: "keys", status: "ok", detail: "approved for key epoch 2; …" }
 * ```
 */
export async function keysCheck(runtime: CliRuntime): Promise<CheckResult> {
  let keys;
  try {
    keys = await thisDeviceKeys(runtime);
  } catch (err) {
    if (!(err instanceof TcfsError)) throw err;
    const unreadable = ["not_approved", "sealed_damaged", "keychain_invalid", "keychain_rollback"];
    return unreadable.includes(err.kind)
      ? checkResult(NAME, "fail", err.message, err.hint)
      : checkResult(
        NAME,
        "warn",
        `not checked: ${err.message}`,
        "fix the store failures above first",
      );
  }
  if (!keys) return checkResult(NAME, "ok", "no device identity yet: nothing to check");
  const detail = describeKeyStatus(keys, runtime.config.sync.deviceName);
  if (keys.keychain !== "pending") return checkResult(NAME, "ok", detail);
  return checkResult(
    NAME,
    keys.namespace_sealed ? "fail" : "warn",
    detail,
    `on an approved device run \`tcfs device approve ${runtime.config.sync.deviceName}\`, or ` +
      "`tcfs device enroll --recovery` with the fleet's recovery passphrase",
  );
}

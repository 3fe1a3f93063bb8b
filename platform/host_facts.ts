/**
 * What tells this host from others for `tcfs doctor`'s clone check: the operating system's id
 * of this installation (systemd's `/etc/machine-id`, or D-Bus's copy), which differs even on a
 * clone of another host's disk image once the clone got its own (cloud-init and virt-sysprep
 * give it one), and the host name, which clones usually change.
 *
 * @module
 */

import type { HostFacts } from "../core/device/device_instances.ts";
import { hostName } from "./host_name.ts";

/** Where Linux keeps the machine id; the first readable one wins. */
const MACHINE_ID_FILES = ["/etc/machine-id", "/var/lib/dbus/machine-id"];

/** This host's machine id, or `undefined` where there is none (macOS, some containers). */
async function machineId(): Promise<string | undefined> {
  for (const path of MACHINE_ID_FILES) {
    try {
      const id = (await Deno.readTextFile(path)).trim();
      if (id) return id;
    } catch {
      // Not on this platform, or not readable: try the next.
    }
  }
  return undefined;
}

/**
 * This host's machine id and host name.
 *
 * @example
 * ```ts
 * await hostFacts(); // { machineId: "4f1c…", hostName: "yoga" }
 * ```
 */
export async function hostFacts(): Promise<HostFacts> {
  const id = await machineId();
  return id ? { machineId: id, hostName: hostName() } : { hostName: hostName() };
}

/**
 * Where one device id is in use. Each installation that writes as a device (its daemon at
 * start and every few hours, a CLI command that writes state on its own) records itself under
 * `tcfs-meta/devices/<id>/instances/<instance>.json`. The instance id is a digest of the host's
 * machine id, its host name and the state db's path: a cloned VM image or a copied
 * `~/.local/share/tcfs` used on another host (or beside the original) makes a second instance,
 * and `tcfs doctor` reports a device id with more than one live instance. Two writers with one
 * id pick the same version keys; conditional writes keep them from overwriting each other, but
 * every edit then becomes a conflict, so the clone must be re-enrolled.
 *
 * @module
 */

import { blake3Hex } from "../hashing/blake3.ts";
import { DEVICES_PREFIX } from "../remote/remote_keys.ts";
import type { ObjectStore } from "../store/object_store.ts";

/** What the platform says about this host. */
export interface HostFacts {
  /** The OS installation's id (`/etc/machine-id`), when there is one. */
  machineId?: string;
  hostName: string;
}

/** One instance's record. */
export interface DeviceInstance {
  instance: string;
  host: string;
  /** The state db of that installation. */
  state_db: string;
  /** The last time it recorded itself. */
  seen_at: string;
}

/** Records older than this are of installations that stopped (a host renamed or replaced). */
export const INSTANCE_LIVE_DAYS = 30;

/**
 * This installation's record, seen now.
 *
 * @example
 * ```ts
 * const me = await thisInstance({ machineId: "4f1c…", hostName: "yoga" }, paths.stateDb);
 * ```
 */
export async function thisInstance(host: HostFacts, stateDb: string): Promise<DeviceInstance> {
  const digest = await blake3Hex(
    new TextEncoder().encode([host.machineId ?? "", host.hostName, stateDb].join("\n")),
  );
  return {
    instance: digest.slice(0, 32),
    host: host.hostName,
    state_db: stateDb,
    seen_at: new Date().toISOString(),
  };
}

/**
 * Writes (or refreshes) `instance`'s record for `deviceId`.
 *
 * @example
 * ```ts
 * await recordInstance(store, device.id, await thisInstance(host, paths.stateDb));
 * ```
 */
export async function recordInstance(
  store: ObjectStore,
  deviceId: string,
  instance: DeviceInstance,
): Promise<void> {
  await store.put(
    `${instancesPrefix(deviceId)}${instance.instance}.json`,
    new TextEncoder().encode(JSON.stringify(instance) + "\n"),
  );
}

/** An installation record is a few hundred bytes; anything far bigger is refused unread. */
const MAX_INSTANCE_BYTES = 16 * 1024;

/**
 * The instances of `deviceId` seen in the last {@linkcode INSTANCE_LIVE_DAYS} days, newest
 * first. Unreadable records are skipped: they can't name a host.
 *
 * @example
 * ```ts
 * if ((await liveInstances(store, device.id)).length > 1) reportClone();
 * ```
 */
export async function liveInstances(
  store: ObjectStore,
  deviceId: string,
  now: Date = new Date(),
): Promise<DeviceInstance[]> {
  const since = now.getTime() - INSTANCE_LIVE_DAYS * 86_400_000;
  const found: DeviceInstance[] = [];
  for await (const { key } of store.list(instancesPrefix(deviceId))) {
    const record = parseInstance(await store.get(key, { maxBytes: MAX_INSTANCE_BYTES }));
    if (record && Date.parse(record.seen_at) >= since) found.push(record);
  }
  return found.sort((a, b) => b.seen_at.localeCompare(a.seen_at));
}

function instancesPrefix(deviceId: string): string {
  return `${DEVICES_PREFIX}${deviceId}/instances/`;
}

function parseInstance(body: Uint8Array | undefined): DeviceInstance | undefined {
  if (!body) return undefined;
  try {
    const value = JSON.parse(new TextDecoder().decode(body));
    const fields = ["instance", "host", "state_db", "seen_at"];
    return fields.every((f) => typeof value?.[f] === "string") ? value : undefined;
  } catch {
    return undefined;
  }
}

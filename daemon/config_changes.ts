/**
 * Which settings a reload changed, by name only (values may be secrets), and which of those
 * only a restart applies.
 *
 * @module
 */

import { KEY_SPECS, settingValue } from "../core/config/config_schema.ts";
import type { ConfigSettings } from "../core/config/config_schema.ts";

/** Settings the running daemon can't change: it listens on them, or its mounts were made with them. */
const RESTART_ONLY = new Set([
  "daemon.socket",
  "daemon.metrics_addr",
  "mount.mounts",
  "mount.cache_size",
  "mount.read_timeout_secs",
  "mount.write_quiet_secs",
]);

/** The settings that differ, as `section.key`. */
export interface ConfigChanges {
  changed: string[];
  needsRestart: string[];
}

/**
 * Compares two configurations setting by setting.
 *
 * @example
 * ```ts
 * configChanges(before, after); // { changed: ["sync.exclude_patterns"], needsRestart: [] }
 * ```
 */
export function configChanges(before: ConfigSettings, after: ConfigSettings): ConfigChanges {
  const changed = KEY_SPECS
    .filter((spec) =>
      JSON.stringify(settingValue(before, spec)) !== JSON.stringify(settingValue(after, spec))
    )
    .map((spec) => `${spec.section}.${spec.key}`);
  return { changed, needsRestart: changed.filter((name) => RESTART_ONLY.has(name)) };
}

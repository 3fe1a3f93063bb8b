/**
 * Writing the config file (`tcfs device enroll`): update some keys, keep the rest.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { stringify } from "smol-toml";
import type { SectionName } from "./config_schema.ts";
import { decodeFileSettings, parseConfigToml } from "./config_file.ts";

/** New values by section and TOML key name; an `undefined` value leaves the key as it is. */
export type ConfigFileUpdates = { [S in SectionName]?: Record<string, unknown> };

/**
 * Sets keys in a config file, creating it (and its directory) when missing. Keys and sections
 * it does not update are kept; comments are not. The result is checked like a loaded file, so
 * an invalid file is never written, and it replaces the old one atomically with mode 0600.
 *
 * @param path The config file, usually `config.file.path`.
 * @param updates The keys to set.
 * @throws {TcfsError} (kind `config_invalid`) when the existing file is not valid or an update
 *   is an unknown key or a bad value.
 *
 * @example
 * ```ts
 * await writeConfigFile(config.file.path, {
 *   sync: { device_name: "yoga", conflict_mode: "interactive" },
 * });
 * ```
 */
export async function writeConfigFile(path: string, updates: ConfigFileUpdates): Promise<void> {
  const table = await readTable(path);
  for (const [section, values] of Object.entries(updates)) {
    const current = table[section];
    const merged: Record<string, unknown> =
      typeof current === "object" && current !== null && !Array.isArray(current)
        ? { ...current }
        : {};
    for (const [key, value] of Object.entries(values ?? {})) {
      if (value !== undefined) merged[key] = value;
    }
    table[section] = merged;
  }
  // Only validity matters here, not the expanded paths, and any absolute home gives the same
  // verdict; the values are written as given, `~` and all.
  decodeFileSettings(table, path, "/");
  await replaceAtomically(path, stringify(table));
}

async function readTable(path: string): Promise<Record<string, unknown>> {
  try {
    return { ...parseConfigToml(await Deno.readTextFile(path), path) };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return {};
    throw err;
  }
}

async function replaceAtomically(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      const bytes = new TextEncoder().encode(text);
      for (let written = 0; written < bytes.length;) {
        written += await file.write(bytes.subarray(written));
      }
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

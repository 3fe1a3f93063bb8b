/**
 * Reading the TOML config file: syntax errors with their position, and unknown sections or
 * keys with the closest known name.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import {
  decodeSetting,
  findKeySpec,
  invalidConfig,
  KEY_SPECS,
  SECTION_NAMES,
} from "./config_schema.ts";
import type { KeySpec } from "./config_schema.ts";

/** A checked setting from the config file. */
export interface FileSetting {
  /** The key. */
  spec: KeySpec;
  /** The checked, normalised value. */
  value: unknown;
}

/**
 * Parses config file text as TOML.
 *
 * @param path The file, for error messages.
 * @throws {TcfsError} (kind `config_invalid`) naming the file, the line and column, and what
 *   is wrong. The offending line itself is never quoted, since it may hold a secret.
 *
 * @example
 * ```ts
 * parseConfigToml('[storage]\nbucket = "tcfs"\n', "config.toml"); // { storage: { bucket: "tcfs" } }
 * ```
 */
export function parseConfigToml(text: string, path: string): Record<string, unknown> {
  try {
    return parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // The first line is smol-toml's reason; the lines after it quote the file.
    const reason = err.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
    return invalidConfig(
      `config file ${path} is not valid TOML: ${reason} (line ${err.line}, column ${err.column})`,
      `fix line ${err.line} of ${path} (TOML syntax: https://toml.io/en/v1.0.0), ` +
        `or move the file away to use the defaults`,
    );
  }
}

/**
 * Checks a parsed config file against the schema and returns its settings.
 *
 * @param table The parsed TOML.
 * @param path The file, for error messages.
 * @param home The home directory a leading `~` stands for.
 * @throws {TcfsError} (kind `config_invalid`) for an unknown section or key (suggesting the
 *   closest known one), a value outside any section, or a bad value.
 *
 * @example
 * ```ts
 * const settings = decodeFileSettings({ sync: { namespace: "lab" } }, "config.toml", "/home/ada");
 * settings[0].value; // "lab"
 * ```
 */
export function decodeFileSettings(
  table: Record<string, unknown>,
  path: string,
  home: string,
): FileSetting[] {
  const settings: FileSetting[] = [];
  for (const [section, body] of Object.entries(table)) {
    if (!isTable(body)) return misplacedKey(section, path);
    if (!(SECTION_NAMES as readonly string[]).includes(section)) {
      return unknownSection(section, path);
    }
    for (const [key, raw] of Object.entries(body)) {
      const spec = findKeySpec(section, key) ?? unknownKey(section, key, path);
      settings.push({ spec, value: decodeSetting(spec, raw, { file: path }, home) });
    }
  }
  return settings;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

const SECTION_LIST = SECTION_NAMES.map((name) => `[${name}]`).join(", ");

function unknownSection(section: string, path: string): never {
  const guess = closestName(section, SECTION_NAMES);
  return invalidConfig(
    `config file ${path}: unknown section [${section}]`,
    `${guess ? `did you mean [${guess}]? ` : ""}the sections are ${SECTION_LIST}`,
  );
}

function misplacedKey(key: string, path: string): never {
  const guess = closestName(key, KEY_SPECS.map((spec) => spec.key));
  const owner = KEY_SPECS.find((spec) => spec.key === key) ??
    KEY_SPECS.find((spec) => spec.key === guess);
  const known = (SECTION_NAMES as readonly string[]).includes(key);
  return invalidConfig(
    known
      ? `config file ${path}: ${key} must be a section ([${key}]), not a single value`
      : `config file ${path}: ${key} is outside any section`,
    known
      ? `write [${key}] on its own line and put its keys below it`
      : owner
      ? `did you mean [${owner.section}] ${owner.key}? put it below a [${owner.section}] line`
      : `keys belong below one of the section lines ${SECTION_LIST}`,
  );
}

function unknownKey(section: string, key: string, path: string): never {
  const sectionKeys = KEY_SPECS.filter((spec) => spec.section === section).map((spec) => spec.key);
  const elsewhere = KEY_SPECS.find((spec) => spec.key === key);
  const guess = closestName(key, sectionKeys);
  return invalidConfig(
    `config file ${path}: unknown key [${section}] ${key}`,
    elsewhere
      ? `${key} belongs in [${elsewhere.section}]; move it there`
      : `${guess ? `did you mean ${guess}? ` : ""}the keys of [${section}] are ${
        sectionKeys.join(", ")
      }`,
  );
}

/**
 * The candidate closest to a misspelt name, ignoring case, `_` and `-` (so `conflictMode`
 * finds `conflict_mode`), or `undefined` when none is close.
 */
function closestName(name: string, candidates: readonly string[]): string | undefined {
  const simplify = (text: string) => text.toLowerCase().replace(/[_-]/g, "");
  const wanted = simplify(name);
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const simple = simplify(candidate);
    // The distance is at least the difference in length: a name far longer than every
    // candidate (a hostile file's megabyte key) is rejected without computing it.
    if (Math.abs(wanted.length - simple.length) > limit) continue;
    const distance = editDistance(wanted, simple);
    if (distance <= limit && (!best || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

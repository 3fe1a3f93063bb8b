/**
 * Showing the effective configuration (`tcfs config show`), as TOML or JSON, with secrets
 * redacted.
 *
 * @module
 */

import { stringify } from "smol-toml";
import {
  KEY_SPECS,
  REDACTED,
  redactUrlCredentials,
  SECTION_NAMES,
  settingValue,
} from "./config_schema.ts";
import type { KeySpec, SectionName, TcfsConfig } from "./config_schema.ts";

/** The JSON form of the effective configuration; unset keys are `null`. */
export type ConfigJson =
  & {
    file: { path: string; exists: boolean; mode: string | null };
    env_sources: Record<string, string>;
  }
  & Record<SectionName, Record<string, unknown>>;

/** A setting as it may be shown: secrets replaced, passwords in URLs hidden. */
function shownValue(config: TcfsConfig, spec: KeySpec): unknown {
  const value = settingValue(config, spec);
  if (value === undefined) return undefined;
  if (spec.secret) return REDACTED;
  return typeof value === "string" ? redactUrlCredentials(value) : value;
}

/**
 * Renders the effective configuration as TOML, headed by comments saying which file it came
 * from and which keys came from the environment. Secrets appear as `"<redacted>"`; unset keys
 * appear as comments.
 *
 * @example
 * ```ts
 * console.log(renderConfig(await loadConfig()));
 * // # tcfs configuration in effect
 * // # file: /home/ada/.config/tcfs/config.toml
 * // ...
 * ```
 */
export function renderConfig(config: TcfsConfig): string {
  const lines = [
    "# tcfs configuration in effect",
    `# file: ${config.file.path}${config.file.exists ? "" : " (not found: built-in defaults)"}`,
  ];
  const fromEnv = Object.entries(config.envSources);
  lines.push(
    fromEnv.length === 0 ? "# from the environment: nothing" : "# from the environment:",
    ...fromEnv.map(([key, envVar]) => `#   ${key} <- ${envVar}`),
  );
  for (const section of SECTION_NAMES) {
    lines.push("", `[${section}]`);
    for (const spec of KEY_SPECS.filter((spec) => spec.section === section)) {
      const value = shownValue(config, spec);
      lines.push(
        value === undefined
          ? `# ${spec.key} is not set`
          : stringify({ [spec.key]: value }).trimEnd(),
      );
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * The effective configuration as a JSON value for `--json`, with TOML key names, secrets
 * redacted, and the file mode in octal.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(configToJson(await loadConfig()), null, 2));
 * ```
 */
export function configToJson(config: TcfsConfig): ConfigJson {
  const sections = Object.fromEntries(SECTION_NAMES.map((section) => [
    section,
    Object.fromEntries(
      KEY_SPECS.filter((spec) => spec.section === section)
        .map((spec) => [spec.key, shownValue(config, spec) ?? null]),
    ),
  ])) as Record<SectionName, Record<string, unknown>>;
  const { path, exists, mode } = config.file;
  return {
    file: { path, exists, mode: mode === undefined ? null : `0${mode.toString(8)}` },
    env_sources: { ...config.envSources },
    ...sections,
  };
}

/**
 * The launchd agent `com.tummycrypt.tcfsd` that `tcfs device enroll` writes on macOS, logging
 * where the fleet deployment guide says.
 *
 * @module
 */

import { TcfsError } from "../core/errors.ts";
import type { ServiceSpec } from "./service_spec.ts";

/** The agent's label, and its plist's name without `.plist`. */
export const LAUNCHD_LABEL = "com.tummycrypt.tcfsd";

/** Where launchd writes the daemon's stdout and stderr. */
export const LAUNCHD_LOG_PATHS = {
  stdout: "/tmp/tcfsd.stdout.log",
  stderr: "/tmp/tcfsd.stderr.log",
} as const;

/**
 * Renders the plist: the daemon starts at login (`RunAtLoad`) and is restarted whenever it
 * exits (`KeepAlive`). launchd has no env files; the daemon reads `~/.config/tcfs/env` itself,
 * so only `spec.environment` appears here.
 *
 * @throws {TcfsError} (kind `service_invalid`) for text XML cannot hold (control characters).
 *
 * @example
 * ```ts
 * renderLaunchdPlist({
 *   program: ["/usr/local/bin/tcfs", "daemon"],
 *   envFile: "/Users/ada/.config/tcfs/env",
 *   environment: { TCFS_CONFIG: "/Users/ada/.config/tcfs/config.toml" },
 *   system: false,
 * });
 * ```
 */
export function renderLaunchdPlist(spec: ServiceSpec): string {
  const string = (text: string) => `<string>${xmlText(text)}</string>`;
  const environment = Object.entries(spec.environment).flatMap(([name, value]) => [
    `      <key>${xmlText(name)}</key>`,
    `      ${string(value)}`,
  ]);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    "<!-- Written by `tcfs device enroll`; it is rewritten when you enroll again. -->",
    '<plist version="1.0">',
    "  <dict>",
    "    <key>Label</key>",
    `    ${string(LAUNCHD_LABEL)}`,
    "    <key>ProgramArguments</key>",
    "    <array>",
    ...spec.program.map((word) => `      ${string(word)}`),
    "    </array>",
    "    <key>RunAtLoad</key>",
    "    <true/>",
    "    <key>KeepAlive</key>",
    "    <true/>",
    "    <key>StandardOutPath</key>",
    `    ${string(LAUNCHD_LOG_PATHS.stdout)}`,
    "    <key>StandardErrorPath</key>",
    `    ${string(LAUNCHD_LOG_PATHS.stderr)}`,
    "    <key>EnvironmentVariables</key>",
    "    <dict>",
    ...environment,
    "    </dict>",
    "  </dict>",
    "</plist>",
    "",
  ].join("\n");
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

function xmlText(text: string): string {
  // deno-lint-ignore no-control-regex -- XML 1.0 cannot hold these characters at all
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text)) {
    throw new TcfsError(`${JSON.stringify(text)} cannot be written into a launchd plist`, {
      kind: "service_invalid",
      hint: "use paths without control characters",
    });
  }
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/**
 * The version of tcfs and of the runtime it was built with, for `tcfs --version` and
 * `tcfs version --json`.
 *
 * deno.json is imported as a module rather than read from disk so that `deno compile` embeds it:
 * a compiled binary has no source tree to read at run time.
 *
 * @module
 */

import denoConfig from "../deno.json" with { type: "json" };

/** Versions reported by `tcfs version --json`. */
export interface VersionInfo {
  /** tcfs itself, from deno.json (e.g. "0.7.0"). */
  tcfs: string;
  /** The Deno runtime the program runs on (for a compiled binary: the one it embeds). */
  deno: string;
  /** The V8 engine inside that Deno. */
  v8: string;
  /** The TypeScript version bundled with that Deno. */
  typescript: string;
  /** Operating system, as Deno reports it (e.g. "linux", "darwin"). */
  os: typeof Deno.build.os;
  /** CPU architecture, as Deno reports it (e.g. "x86_64", "aarch64"). */
  arch: typeof Deno.build.arch;
}

/**
 * Returns the tcfs version recorded in deno.json.
 *
 * @example
 * ```ts
 * console.log(`tcfs ${tcfsVersion()}`); // "tcfs 0.7.0"
 * ```
 */
export function tcfsVersion(): string {
  return denoConfig.version;
}

/**
 * Returns the tcfs version together with the runtime's versions and platform.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(versionInfo()));
 * // {"tcfs":"0.7.0","deno":"2.9.6","v8":"…","typescript":"…","os":"linux","arch":"x86_64"}
 * ```
 */
export function versionInfo(): VersionInfo {
  return {
    tcfs: tcfsVersion(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: Deno.build.os,
    arch: Deno.build.arch,
  };
}

/**
 * XDG base directories. Everything tcfs keeps per device lives under them, so a different
 * `$HOME` (for example `HOME=/tmp/devA`) is a complete, separate device.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { ExitCode, TcfsError } from "../core/errors.ts";

/** The XDG base directories and the home directory they derive from. All paths are absolute. */
export interface XdgDirs {
  /** `$HOME`. */
  home: string;
  /** `$XDG_CONFIG_HOME`, else `$HOME/.config`. */
  configHome: string;
  /** `$XDG_DATA_HOME`, else `$HOME/.local/share`. */
  dataHome: string;
  /** `$XDG_STATE_HOME`, else `$HOME/.local/state`. */
  stateHome: string;
  /** `$XDG_CACHE_HOME`, else `$HOME/.cache`. */
  cacheHome: string;
  /** `$XDG_RUNTIME_DIR`; the spec gives it no default, so it may be missing. */
  runtimeDir?: string;
}

/**
 * Resolves the XDG base directories from an environment. An `XDG_*` variable that is unset,
 * empty or relative is ignored, as the XDG Base Directory spec requires, and the directory is
 * derived from `$HOME` instead.
 *
 * @param env The environment to read; defaults to the process environment.
 * @throws {TcfsError} when `HOME` is unset or not an absolute path.
 *
 * @example
 * ```ts
 * const dirs = xdgDirs({ HOME: "/tmp/devA" });
 * dirs.configHome; // "/tmp/devA/.config"
 * dirs.dataHome; // "/tmp/devA/.local/share"
 * ```
 */
export function xdgDirs(env: Record<string, string | undefined> = Deno.env.toObject()): XdgDirs {
  const home = env.HOME;
  if (!home || !isAbsolute(home)) {
    throw new TcfsError(
      home ? `HOME is not an absolute path: ${JSON.stringify(home)}` : "HOME is not set",
      {
        hint: "set HOME to your home directory (tcfs keeps its per-device files under it)",
        exitCode: ExitCode.usage,
        kind: "config_invalid",
      },
    );
  }
  const fromEnv = (name: string): string | undefined => {
    const value = env[name];
    return value && isAbsolute(value) ? value : undefined;
  };
  return {
    home,
    configHome: fromEnv("XDG_CONFIG_HOME") ?? join(home, ".config"),
    dataHome: fromEnv("XDG_DATA_HOME") ?? join(home, ".local", "share"),
    stateHome: fromEnv("XDG_STATE_HOME") ?? join(home, ".local", "state"),
    cacheHome: fromEnv("XDG_CACHE_HOME") ?? join(home, ".cache"),
    runtimeDir: fromEnv("XDG_RUNTIME_DIR"),
  };
}

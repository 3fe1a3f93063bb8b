/**
 * Fuzz target: `config.toml` (TOML syntax, then the schema) and the `TCFS_*` overrides.
 *
 * @module
 */

import { stringify } from "smol-toml";
import { decodeFileSettings, parseConfigToml } from "../../../core/config/config_file.ts";
import { ENV_OVERRIDES, envSettings } from "../../../core/config/env_overrides.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { below, hostileString, hostileText, jsonText, mutateJson, pick } from "../mutations.ts";

/** Every section with a valid value for most keys. */
const SAMPLE_TABLE = {
  storage: { endpoint: "http://127.0.0.1:8333", bucket: "tcfs", region: "us-east-1" },
  sync: {
    namespace: "lab",
    sync_root: "~/tcfs",
    exclude_patterns: ["*.tmp", ".git/**"],
    device_name: "yoga",
    conflict_mode: "auto",
    max_conflicts: 5,
    nats_url: "nats://127.0.0.1:4222",
    poll_interval_secs: 30,
    debounce_ms: 500,
  },
  history: { keep_days: 30, keep_last: 10, staggered: true, gc_interval_secs: 86400 },
  nats: { creds_file: "/etc/tcfs/nats.creds", user: "tcfs", domain: "hub" },
  daemon: {
    socket: "/run/user/1000/tcfsd.sock",
    metrics_addr: "127.0.0.1:9464",
    log_level: "info",
  },
  secrets: { sops_file: "~/.config/tcfs/secrets.yaml", kdbx_entry: "tcfs/s3" },
};

const SAMPLE_TEXT = stringify(SAMPLE_TABLE);

type ConfigInput =
  | { toml: string }
  | { table: string }
  | { env: Record<string, string> };

export const target: FuzzTarget<ConfigInput> = {
  input: (random) => {
    const roll = random();
    if (roll < 0.45) return { toml: hostileText(random, SAMPLE_TEXT) };
    if (roll < 0.85) return { table: jsonText(mutateJson(random, SAMPLE_TABLE)) };
    const env: Record<string, string> = {};
    for (let n = 1 + below(random, 4); n > 0; n--) {
      env[pick(random, ENV_OVERRIDES).envVar] = hostileString(random);
    }
    return { env };
  },
  run: (input) => {
    if ("toml" in input) {
      decodeFileSettings(parseConfigToml(input.toml, "config.toml"), "config.toml", "/home/ada");
    } else if ("table" in input) {
      // A table smol-toml can write goes through the TOML parser; any other is decoded as is.
      const table = JSON.parse(input.table);
      // A TOML document is always a table; the text cases cover everything else.
      if (typeof table !== "object" || table === null || Array.isArray(table)) return;
      let text: string | undefined;
      try {
        text = stringify(table);
      } catch {
        text = undefined;
      }
      const parsed = text === undefined ? table : parseConfigToml(text, "config.toml");
      decodeFileSettings(parsed, "config.toml", "/home/ada");
    } else {
      envSettings(input.env, "/home/ada");
    }
  },
};

import assert from "node:assert/strict";
import { ENV_OVERRIDES, envOverridesMarkdown } from "../../../core/config/env_overrides.ts";
import { loadTestConfig } from "../../support/test_config.ts";
import { TcfsError } from "../../../core/errors.ts";
import { deviceHome } from "./device_home.ts";

/** For each variable: the text to set and the setting it must produce (at `home` = /h). */
const SAMPLES: Record<string, [string, unknown]> = {
  TCFS_S3_ENDPOINT: ["http://127.0.0.1:8333", "http://127.0.0.1:8333"],
  TCFS_S3_BUCKET: ["env-bucket", "env-bucket"],
  TCFS_S3_REGION: ["ap-south-1", "ap-south-1"],
  TCFS_NAMESPACE: ["lab", "lab"],
  TCFS_SYNC_ROOT: ["~/sync", "/h/sync"],
  TCFS_EXCLUDE_PATTERNS: ["*.tmp, node_modules", ["*.tmp", "node_modules"]],
  TCFS_DEVICE_NAME: ["petting-zoo-mini", "petting-zoo-mini"],
  TCFS_CONFLICT_MODE: ["defer", "defer"],
  TCFS_MAX_CONFLICTS: ["3", 3],
  TCFS_SYNC_LINKS: ["skip", "skip"],
  TCFS_NATS_URL: ["nats://a:4222, nats://b:4222", "nats://a:4222,nats://b:4222"],
  TCFS_POLL_INTERVAL_SECS: ["7", 7],
  TCFS_MASS_DELETE_RATIO: ["0.25", 0.25],
  TCFS_MASS_DELETE_MIN_FILES: ["20", 20],
  TCFS_HISTORY_KEEP_DAYS: ["0", 0],
  TCFS_HISTORY_KEEP_LAST: ["1", 1],
  TCFS_HISTORY_STAGGERED: ["true", true],
  TCFS_HISTORY_GC_INTERVAL_SECS: ["0", 0],
  TCFS_HISTORY_GC_MIN_AGE_SECS: ["60", 60],
  TCFS_NATS_CREDS: ["/etc/nats/tcfs.creds", "/etc/nats/tcfs.creds"],
  TCFS_NATS_DOMAIN: ["leaf", "leaf"],
  TCFS_NATS_REPLICAS: ["3", 3],
  TCFS_SOCKET: ["/tmp/devB.sock", "/tmp/devB.sock"],
  TCFS_METRICS_ADDR: ["127.0.0.1:9101", "127.0.0.1:9101"],
  TCFS_LOG: ["debug", "debug"],
  TCFS_LOG_FORMAT: ["json", "json"],
  TCFS_KDBX_PATH: ["/h/fleet.kdbx", "/h/fleet.kdbx"],
  TCFS_SOPS_FILE: ["/etc/tcfs/secrets.yaml", "/etc/tcfs/secrets.yaml"],
};

Deno.test("the override table is exactly the documented variables", () => {
  assert.deepEqual(ENV_OVERRIDES.map((entry) => entry.envVar).sort(), Object.keys(SAMPLES).sort());
});

Deno.test("every TCFS_* variable overrides its setting over the file", async () => {
  await using device = await deviceHome(
    '[storage]\nbucket = "file-bucket"\n[sync]\nconflict_mode = "auto"\nnamespace = "file-ns"\n',
  );
  for (const { envVar, spec } of ENV_OVERRIDES) {
    const [text, expected] = SAMPLES[envVar];
    const env = { ...device.env, TCFS_CONFIG: device.configFile, HOME: "/h", [envVar]: text };
    const config = await loadTestConfig({ env });
    const section = config[spec.section] as unknown as Record<string, unknown>;
    assert.deepEqual(section[spec.field], expected, envVar);
    assert.deepEqual(config.envSources, { [`${spec.section}.${spec.key}`]: envVar });
  }
});

Deno.test("a bad TCFS_* value names the variable, not the file", async () => {
  await using device = await deviceHome("[sync]\n");
  await assert.rejects(
    loadTestConfig({ env: { ...device.env, TCFS_SYNC_ROOT: "relative/dir" } }),
    (err: unknown) => {
      assert.ok(err instanceof TcfsError);
      assert.equal(err.kind, "config_invalid");
      assert.match(
        err.message,
        /^environment variable TCFS_SYNC_ROOT="relative\/dir" is not valid/,
      );
      assert.match(err.hint ?? "", /^set TCFS_SYNC_ROOT to an absolute path/);
      assert.ok(!err.message.includes(device.configFile));
      return true;
    },
  );
});

Deno.test("the README table lists every variable with the key it overrides", () => {
  const table = envOverridesMarkdown();
  const rows = table.trimEnd().split("\n");
  assert.equal(rows[0], "| Variable | Overrides | Meaning |");
  assert.equal(rows.length, 2 + 1 + ENV_OVERRIDES.length);
  assert.ok(rows.includes("| `TCFS_LOG` | `[daemon] log_level` | the log level |"));
  for (const { envVar, spec } of ENV_OVERRIDES) {
    assert.ok(table.includes(`| \`${envVar}\` | \`[${spec.section}] ${spec.key}\` |`), envVar);
  }
});

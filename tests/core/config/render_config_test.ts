import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { loadTestConfig } from "../../support/test_config.ts";
import { configToJson, renderConfig } from "../../../core/config/render_config.ts";
import { deviceHome } from "./device_home.ts";

const SECRETS = [
  "AKIA-ACCESS-1234",
  "s3-secret-5678",
  "nats-pass-9012",
  "nats-token-3456",
  "urlpass-7890",
];

const WITH_SECRETS = `
[storage]
endpoint = "http://127.0.0.1:8333"
s3_access = "${SECRETS[0]}"
s3_secret = "${SECRETS[1]}"
[sync]
nats_url = "nats://tcfs:${SECRETS[4]}@yoga:4222"
[nats]
user = "tcfs"
password = "${SECRETS[2]}"
token = "${SECRETS[3]}"
`;

Deno.test("renderConfig never shows a secret, and marks set secrets as redacted", async () => {
  await using device = await deviceHome(WITH_SECRETS);
  const config = await loadTestConfig({ env: device.env });
  const text = renderConfig(config);
  for (const secret of SECRETS) assert.ok(!text.includes(secret), secret);
  const toml = parse(text) as Record<string, Record<string, unknown>>;
  assert.equal(toml.storage.s3_access, "<redacted>");
  assert.equal(toml.storage.s3_secret, "<redacted>");
  assert.equal(toml.nats.password, "<redacted>");
  assert.equal(toml.nats.token, "<redacted>");
  assert.equal(toml.nats.user, "tcfs");
  assert.equal(toml.sync.nats_url, "nats://tcfs:<redacted>@yoga:4222");
});

Deno.test("renderConfig is TOML of the effective settings, headed by their origin", async () => {
  await using device = await deviceHome('[sync]\nnamespace = "lab"\n');
  const config = await loadTestConfig({
    env: {
      ...device.env,
      TCFS_CONFLICT_MODE: "auto",
      TCFS_EXCLUDE_PATTERNS: "a,b",
      TCFS_HISTORY_KEEP_LAST: "3",
    },
  });
  const text = renderConfig(config);
  const lines = text.split("\n");
  assert.equal(lines[1], `# file: ${device.configFile}`);
  assert.ok(lines.includes("#   sync.conflict_mode <- TCFS_CONFLICT_MODE"));
  assert.ok(lines.includes("#   sync.exclude_patterns <- TCFS_EXCLUDE_PATTERNS"));
  assert.ok(lines.includes("#   history.keep_last <- TCFS_HISTORY_KEEP_LAST"));
  assert.ok(lines.includes("# s3_secret is not set"));
  const toml = parse(text) as Record<string, Record<string, unknown>>;
  assert.equal(toml.sync.namespace, "lab");
  assert.equal(toml.sync.conflict_mode, "auto");
  assert.deepEqual(toml.sync.exclude_patterns, ["a", "b"]);
  assert.equal(toml.sync.poll_interval_secs, 30);
  assert.deepEqual({ ...toml.history }, {
    keep_days: 30,
    keep_last: 3,
    staggered: false,
    gc_interval_secs: 86400,
    gc_min_age_secs: 3600,
  });
  assert.equal(toml.storage.endpoint, "");
  assert.equal(toml.storage.s3_secret, undefined);
  assert.equal(toml.daemon.socket, config.daemon.socket);
});

Deno.test("renderConfig says when the file is missing and nothing came from the environment", async () => {
  await using device = await deviceHome();
  const text = renderConfig(await loadTestConfig({ env: device.env }));
  assert.match(text, new RegExp(`# file: ${device.configFile} \\(not found: built-in defaults\\)`));
  assert.match(text, /# from the environment: nothing/);
});

Deno.test("configToJson is redacted, uses TOML key names and null for unset keys", async () => {
  await using device = await deviceHome(WITH_SECRETS, 0o600);
  const config = await loadTestConfig({ env: { ...device.env, TCFS_S3_BUCKET: "env-bucket" } });
  const json = configToJson(config);
  const text = JSON.stringify(json);
  for (const secret of SECRETS) assert.ok(!text.includes(secret), secret);
  assert.deepEqual(json.file, { path: device.configFile, exists: true, mode: "0600" });
  assert.deepEqual(json.env_sources, { "storage.bucket": "TCFS_S3_BUCKET" });
  assert.equal(json.storage.bucket, "env-bucket");
  assert.equal(json.storage.s3_secret, "<redacted>");
  assert.equal(json.sync.sync_root, null);
  assert.equal(json.sync.conflict_mode, "interactive");
  assert.equal(json.history.keep_last, 10);
});
